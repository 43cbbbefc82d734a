import CheapRuler from "cheap-ruler";
import simplifyJs from "simplify-js";
import type { TrackPoint } from "../../protocol/history.ts";

/**
 * simplify-js recurses once per split, so a pathological line (laps of a circuit) can recurse as
 * deep as it is long. Simplifying pieces of at most this many fixes bounds the depth; each cut
 * keeps one extra vertex, which is nothing next to the thousands a piece this long keeps anyway.
 */
const MAX_PIECE = 4096;

interface Projected {
  x: number;
  y: number;
  i: number;
}

/**
 * Douglas–Peucker (simplify-js, exact variant: no radial pre-pass, whose points could stray up to
 * twice the tolerance) on fixes projected to local metres: degrees are not square away from the
 * equator, so simplifying lat/lon directly would keep twice as many vertices east–west at 60° N.
 * The projection is cheap-ruler's, centred on the piece: within 0.1 % over hundreds of km.
 * Every dropped fix lies within `toleranceM` of the kept line; first and last fixes are kept.
 */
export function simplifyLine<T extends TrackPoint>(points: readonly T[], toleranceM: number): T[] {
  if (points.length <= 2) return points.slice();
  const out: T[] = [];
  for (let start = 0; start < points.length - 1; start += MAX_PIECE - 1) {
    const end = Math.min(points.length, start + MAX_PIECE);
    const kept = simplifyPiece(points, start, end, toleranceM);
    // Pieces share their boundary fix: skip it the second time.
    for (let k = out.length === 0 ? 0 : 1; k < kept.length; k++) out.push(kept[k]!);
  }
  return out;
}

function simplifyPiece<T extends TrackPoint>(
  points: readonly T[],
  start: number,
  end: number,
  toleranceM: number,
): T[] {
  const mid = points[(start + end) >> 1]!;
  const ruler = new CheapRuler(mid[1], "meters");
  const lat0 = mid[1];
  const lon0 = mid[2];
  const projected: Projected[] = new Array<Projected>(end - start);
  for (let i = start; i < end; i++) {
    const p = points[i]!;
    let dLon = p[2] - lon0;
    // Across the antimeridian the short way round is the real one.
    if (dLon > 180) dLon -= 360;
    else if (dLon < -180) dLon += 360;
    projected[i - start] = { x: dLon * ruler.kx, y: (p[1] - lat0) * ruler.ky, i };
  }
  const kept = simplifyJs(projected, toleranceM, true) as Projected[];
  return kept.map((k) => points[k.i]!);
}
