import CheapRuler from "cheap-ruler";
import type { TrackPoint } from "../../protocol/history.ts";

/**
 * The largest distance (metres) from a raw fix to the returned line where it should be: the piece
 * of the segment whose vertices bracket the fix in time (vertices are a subset of the fixes, in
 * order). Returns Infinity when a fix in the checked span is covered by no segment at all.
 */
export function maxDeviation(
  raw: readonly { ts: number; lat: number; lon: number }[],
  segments: readonly TrackPoint[][],
): number {
  const ruler = new CheapRuler(raw[0]?.lat ?? 0, "meters");
  let worst = 0;
  for (const p of raw) {
    const segment = segments[lastAtOrBefore(segments, p.ts, (s) => s[0]![0])];
    if (!segment || p.ts > segment.at(-1)![0]) return Infinity;
    const i = lastAtOrBefore(segment, p.ts, (v) => v[0]);
    const a = segment[i]!;
    const b = segment[Math.min(i + 1, segment.length - 1)]!;
    const d = ruler.pointToSegmentDistance([p.lon, p.lat], [a[2], a[1]], [b[2], b[1]]);
    worst = Math.max(worst, d);
  }
  return worst;
}

/**
 * The largest distance (metres) from a raw fix to where the line puts the vehicle at that fix's
 * time, moving evenly between the vertices around it: what a replay along the line would show.
 */
export function maxTimeDeviation(
  raw: readonly { ts: number; lat: number; lon: number }[],
  line: readonly TrackPoint[],
): number {
  const ruler = new CheapRuler(raw[0]?.lat ?? 0, "meters");
  let worst = 0;
  for (const p of raw) {
    const i = lastAtOrBefore(line, p.ts, (v) => v[0]);
    if (i < 0) return Infinity;
    const a = line[i]!;
    const b = line[Math.min(i + 1, line.length - 1)]!;
    const f = b[0] > a[0] ? (p.ts - a[0]) / (b[0] - a[0]) : 0;
    const at: [number, number] = [a[2] + f * (b[2] - a[2]), a[1] + f * (b[1] - a[1])];
    worst = Math.max(worst, ruler.distance([p.lon, p.lat], at));
  }
  return worst;
}

export const vertexCount = (segments: readonly unknown[][]) =>
  segments.reduce((n, s) => n + s.length, 0);

/** Index of the last item whose key is ≤ ts (-1 if none), items sorted by key. */
function lastAtOrBefore<T>(items: readonly T[], ts: number, key: (item: T) => number): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(items[mid]!) <= ts) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
