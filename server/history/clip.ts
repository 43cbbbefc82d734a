import type { TrackPoint } from "../../protocol/history.ts";
import type { Bbox } from "../../protocol/geo.ts";
import { inBox, segmentCrossesBox } from "./geo.ts";

/**
 * Keep what the view needs: fixes inside the box, their neighbours just outside (so lines enter
 * and leave the view instead of stopping at its last inside fix), and both ends of any straight
 * piece that crosses the box without a fix inside. Where fixes are dropped the line breaks.
 * `breakBefore` marks gaps already known; the returned flags add the breaks clipping makes.
 */
export function clipToBox(
  box: Bbox,
  points: readonly TrackPoint[],
  breakBefore: Uint8Array,
): { points: TrackPoint[]; breakBefore: Uint8Array } {
  const n = points.length;
  const inside = new Uint8Array(n);
  for (let i = 0; i < n; i++) inside[i] = inBox(box, points[i]![1], points[i]![2]) ? 1 : 0;
  // joined[i]: the line runs from i-1 to i, and that piece touches the view.
  const joined = new Uint8Array(n);
  for (let i = 1; i < n; i++) {
    if (breakBefore[i]) continue;
    const a = points[i - 1]!;
    const b = points[i]!;
    joined[i] =
      inside[i - 1] || inside[i] || segmentCrossesBox(box, a[1], a[2], b[1], b[2]) ? 1 : 0;
  }
  const kept: TrackPoint[] = [];
  const flags: number[] = [];
  let last = -2;
  for (let i = 0; i < n; i++) {
    if (!(inside[i] || joined[i] || (i + 1 < n && joined[i + 1]))) continue;
    kept.push(points[i]!);
    // Drawn from the previous kept fix only if that piece touches the view (never across a gap).
    flags.push(last !== i - 1 || !joined[i] ? 1 : 0);
    last = i;
  }
  return { points: kept, breakBefore: Uint8Array.from(flags) };
}
