import { metresPerDegree } from "../../protocol/geo.ts";
import type { TrackPoint } from "../../protocol/history.ts";

/**
 * Douglas–Peucker with the synchronised Euclidean distance (SED): a fix is measured not against
 * the nearest point of the simplified segment, but against where the segment puts the vehicle at
 * that fix's time (moving evenly between the two kept fixes). So the simplified track is right in
 * time as well as in shape: a replay along it is never more than `toleranceM` from where the
 * vehicle really was, a stop on a straight road keeps its ends (time passes, the place does not),
 * and speeds read off it stay true. Shape-only Douglas–Peucker (e.g. simplify-js) would drop both.
 * SED is never below the distance to the segment, so the line is also within `toleranceM` in shape.
 *
 * Fixes are projected to local metres first (cheap-ruler, centred on each piece of at most
 * MAX_PIECE fixes, so the projection stays local: within 0.1 % over hundreds of km): degrees are
 * not square away from the equator. First and last fixes are kept.
 */
export function simplifyLine<T extends TrackPoint>(points: readonly T[], toleranceM: number): T[] {
  if (points.length <= 2) return points.slice();
  const out: T[] = [];
  for (let start = 0; start < points.length - 1; start += MAX_PIECE - 1) {
    const piece = points.slice(start, Math.min(points.length, start + MAX_PIECE));
    const kept = simplifyPiece(piece, toleranceM);
    // Pieces share their boundary fix: skip it the second time.
    for (let k = out.length === 0 ? 0 : 1; k < kept.length; k++) out.push(kept[k]!);
  }
  return out;
}

/** Fixes per projection; each cut keeps one extra vertex, nothing next to what a piece keeps. */
const MAX_PIECE = 4096;

function simplifyPiece<T extends TrackPoint>(points: readonly T[], toleranceM: number): T[] {
  const n = points.length;
  if (n <= 2) return points.slice();
  const { xs, ys } = project(points);
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  const limit = toleranceM * toleranceM;
  const stack: number[] = [0, n - 1];
  while (stack.length > 0) {
    const last = stack.pop()!;
    const first = stack.pop()!;
    const t0 = points[first]![0];
    const span = points[last]![0] - t0;
    const dx = xs[last]! - xs[first]!;
    const dy = ys[last]! - ys[first]!;
    let worst = -1;
    let worstAt = -1;
    for (let i = first + 1; i < last; i++) {
      // Where the segment has the vehicle at this fix's time (at its start if no time passes).
      const f = span > 0 ? (points[i]![0] - t0) / span : 0;
      const ex = xs[i]! - (xs[first]! + f * dx);
      const ey = ys[i]! - (ys[first]! + f * dy);
      const d = ex * ex + ey * ey;
      if (d > worst) {
        worst = d;
        worstAt = i;
      }
    }
    if (worst > limit) {
      keep[worstAt] = 1;
      stack.push(first, worstAt, worstAt, last);
    }
  }
  const out: T[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(points[i]!);
  return out;
}

function project(points: readonly TrackPoint[]): { xs: Float64Array; ys: Float64Array } {
  const mid = points[points.length >> 1]!;
  const ruler = metresPerDegree(mid[1]);
  const [, lat0, lon0] = mid;
  const xs = new Float64Array(points.length);
  const ys = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    let dLon = p[2] - lon0;
    // Across the antimeridian the short way round is the real one.
    if (dLon > 180) dLon -= 360;
    else if (dLon < -180) dLon += 360;
    xs[i] = dLon * ruler.kx;
    ys[i] = (p[1] - lat0) * ruler.ky;
  }
  return { xs, ys };
}
