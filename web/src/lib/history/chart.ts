import type { TimeRange } from "./range.ts";
import { stretchSpeed, type Track } from "./track.ts";

/**
 * Geometry of the speed/altitude chart, kept apart from the canvas so it can be tested: the
 * time axis maps [from, to] onto the plot's width, and each series is scaled to its own range.
 */

/** Room left on each side of the data, as a fraction of its span… */
const SPAN_MARGIN = 0.02;
/** …and at least this, so a single fix or a few seconds of data still get a readable axis. */
const MIN_MARGIN_MS = 30_000;

/**
 * The time the chart and the scrubber cover: the data's own span within the range, plus a
 * small margin, or the whole range when there is no data. "Today" starts at midnight; eight
 * minutes driven this evening must fill the chart, not be a sliver at its right edge.
 */
export function chartSpan(range: TimeRange, track: Track | null): TimeRange {
  if (!track || track.vertices === 0) return range;
  const first = Math.max(range.from, track.first);
  const last = Math.min(range.to, track.last);
  if (first > last) return range;
  const margin = Math.max((last - first) * SPAN_MARGIN, MIN_MARGIN_MS);
  return { from: Math.max(range.from, first - margin), to: Math.min(range.to, last + margin) };
}

export interface ChartScale {
  from: number;
  to: number;
  width: number;
}

export function timeToX(scale: ChartScale, t: number): number {
  if (scale.to <= scale.from) return 0;
  return ((t - scale.from) / (scale.to - scale.from)) * scale.width;
}

export function xToTime(scale: ChartScale, x: number): number {
  const f = Math.max(0, Math.min(1, x / Math.max(1, scale.width)));
  return scale.from + f * (scale.to - scale.from);
}

/**
 * Marks for things that happened at instants (sorted by `ts`), within the scale and at least
 * `gap` px apart: of marks that would overlap, the first. Tens of events a minute would otherwise
 * be one smear, and a DOM node each; this bounds them by the chart's width.
 */
export function spacedMarks<T extends { ts: number }>(
  scale: ChartScale,
  items: readonly T[],
  gap: number,
): { item: T; x: number }[] {
  const out: { item: T; x: number }[] = [];
  let last = -Infinity;
  for (const item of items) {
    if (item.ts < scale.from || item.ts > scale.to) continue;
    const x = timeToX(scale, item.ts);
    if (x - last < gap) continue;
    out.push({ item, x });
    last = x;
  }
  return out;
}

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export interface SeriesExtent {
  maxSpeed: number;
  minAlt: number | null;
  maxAlt: number | null;
}

export function seriesExtent(track: Track): SeriesExtent {
  let maxSpeed = 0;
  let minAlt = Infinity;
  let maxAlt = -Infinity;
  for (const segment of track.segments) {
    for (let i = 1; i < segment.length; i++) {
      const speed = stretchSpeed(segment[i - 1]!, segment[i]!) ?? 0;
      if (speed > maxSpeed) maxSpeed = speed;
    }
    for (const p of segment) {
      if (p[4] !== null) {
        if (p[4] < minAlt) minAlt = p[4];
        if (p[4] > maxAlt) maxAlt = p[4];
      }
    }
  }
  return {
    maxSpeed,
    minAlt: minAlt === Infinity ? null : minAlt,
    maxAlt: maxAlt === -Infinity ? null : maxAlt,
  };
}
