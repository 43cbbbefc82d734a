import { bearingDeg, distanceM } from "../../../../protocol/geo.ts";
import type { TrackPoint } from "../../../../protocol/history.ts";

/**
 * Replay over a track: where the vehicle was at any instant, found by binary search over the
 * fix times and linear interpolation between the two fixes around it. Pure (no Leaflet, no
 * DOM), so it is unit-tested and costs O(log n) per animation frame whatever the track length.
 */

export interface Sample {
  t: number;
  lat: number;
  lon: number;
  /** Degrees clockwise from north; null when neither a course nor any movement tells it. */
  heading: number | null;
  /** m/s, reported or (when the device sent none) implied by the two fixes around t. */
  speed: number | null;
  alt: number | null;
  /** t falls where the track has no data (between segments, before or after it). */
  inGap: boolean;
}

/** The fixes of a reply, with per-segment time spans for the search. */
export interface Track {
  segments: readonly (readonly TrackPoint[])[];
  starts: number[];
  ends: number[];
  /** First and last fix time; NaN for an empty track. */
  first: number;
  last: number;
  vertices: number;
}

export function makeTrack(segments: readonly (readonly TrackPoint[])[]): Track {
  const kept = segments.filter((s) => s.length > 0);
  const starts = kept.map((s) => s[0]![0]);
  const ends = kept.map((s) => s.at(-1)![0]);
  return {
    segments: kept,
    starts,
    ends,
    first: starts[0] ?? NaN,
    last: ends.at(-1) ?? NaN,
    vertices: kept.reduce((n, s) => n + s.length, 0),
  };
}

/** Index of the last element of the sorted `values` that is ≤ t, or -1. */
export function lastAtOrBefore(values: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = values.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function lastFixAtOrBefore(segment: readonly TrackPoint[], t: number): number {
  let lo = 0;
  let hi = segment.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segment[mid]![0] <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Below this many metres apart, two fixes say nothing about the direction of travel. */
const MIN_BEARING_M = 1;

export function bearing(a: TrackPoint, b: TrackPoint): number | null {
  if (distanceM(a[1], a[2], b[1], b[2]) < MIN_BEARING_M) return null;
  return bearingDeg(a[1], a[2], b[1], b[2]);
}

/** Metres per second between two fixes, from their distance and times. */
export function impliedSpeed(a: TrackPoint, b: TrackPoint): number | null {
  const dt = (b[0] - a[0]) / 1000;
  if (dt <= 0) return null;
  return distanceM(a[1], a[2], b[1], b[2]) / dt;
}

/**
 * Beyond this many seconds between two vertices, the line was simplified between them: the
 * fixes' own speeds are two instants of a longer stretch, and distance over time is the truth.
 */
const SIMPLIFIED_EDGE_S = 30;

/** Speed along the stretch from a to b at fraction f (m/s). */
export function stretchSpeed(a: TrackPoint, b: TrackPoint, f = 0.5): number | null {
  const reported = a[3] !== null || b[3] !== null;
  if (reported && b[0] - a[0] <= SIMPLIFIED_EDGE_S * 1000) return lerp(a[3], b[3], f);
  return impliedSpeed(a, b) ?? lerp(a[3], b[3], f);
}

function lerp(a: number | null, b: number | null, f: number): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a + (b - a) * f;
}

function pointSample(p: TrackPoint, t: number, inGap: boolean): Sample {
  return { t, lat: p[1], lon: p[2], heading: p[5], speed: inGap ? 0 : p[3], alt: p[4], inGap };
}

/**
 * Where the track puts the vehicle at `t`. In a gap (or outside the track) the vehicle waits at
 * the last fix before it — it is not invented to have driven in a straight line through a
 * stretch with no data — and the sample says so. Null for an empty track.
 */
export function sampleTrack(track: Track, t: number): Sample | null {
  if (track.segments.length === 0) return null;
  const s = lastAtOrBefore(track.starts, t);
  if (s < 0) return pointSample(track.segments[0]![0]!, t, true);
  const segment = track.segments[s]!;
  if (t > track.ends[s]!) return pointSample(segment.at(-1)!, t, true);
  const i = lastFixAtOrBefore(segment, t);
  const a = segment[i]!;
  const b = segment[i + 1];
  if (!b || b[0] === a[0]) return pointSample(a, t, false);
  const f = (t - a[0]) / (b[0] - a[0]);
  const moved = bearing(a, b);
  return {
    t,
    lat: a[1] + (b[1] - a[1]) * f,
    lon: a[2] + (b[2] - a[2]) * f,
    // The drawn line is straight between fixes, so the arrow points along it; parked (no
    // movement) it keeps the reported course.
    heading: moved ?? a[5] ?? b[5],
    speed: stretchSpeed(a, b, f),
    alt: lerp(a[4], b[4], f),
    inGap: false,
  };
}

/**
 * The sample from the most detailed track that has data at `t`: the detailed track drawn for the
 * current view may cover only part of the range (clipped to the map's bounds), the overview
 * covers all of it.
 */
export function sampleTracks(tracks: readonly (Track | null)[], t: number): Sample | null {
  let fallback: Sample | null = null;
  for (const track of tracks) {
    if (!track) continue;
    const sample = sampleTrack(track, t);
    if (sample && !sample.inGap) return sample;
    fallback ??= sample;
  }
  return fallback;
}

/** South-west and north-east corners of the fixes between two times (inclusive), or null. */
export function trackBounds(
  track: Track,
  from = -Infinity,
  to = Infinity,
): { south: number; west: number; north: number; east: number } | null {
  let south = Infinity;
  let west = Infinity;
  let north = -Infinity;
  let east = -Infinity;
  for (const segment of track.segments) {
    for (const p of segment) {
      if (p[0] < from || p[0] > to) continue;
      if (p[1] < south) south = p[1];
      if (p[1] > north) north = p[1];
      if (p[2] < west) west = p[2];
      if (p[2] > east) east = p[2];
    }
  }
  return south === Infinity ? null : { south, west, north, east };
}

/**
 * Pin the stays onto the track for replay. The server simplifies the line by shape, and a stay
 * on a straight road has no shape: its vertices go, and interpolating by time would then creep
 * through a 15-minute stop at walking pace and reach every later point of that stretch late.
 * With a vertex at the start and the end of each stop (and none inside), the replay stands
 * still exactly while the vehicle did.
 */
export function pinStops(
  track: Track,
  stops: readonly { start: number; end: number; lat: number; lon: number }[],
): Track {
  if (stops.length === 0) return track;
  const segments = track.segments.map((segment, s) => {
    const first = track.starts[s]!;
    const last = track.ends[s]!;
    const inside = stops.filter((stop) => stop.end >= first && stop.start <= last);
    if (inside.length === 0) return segment;
    const kept = segment.filter(
      (p) => !inside.some((stop) => p[0] > stop.start && p[0] < stop.end),
    );
    const pins: TrackPoint[] = [];
    for (const stop of inside) {
      for (const ts of [stop.start, stop.end]) {
        if (ts >= first && ts <= last && !kept.some((p) => p[0] === ts))
          pins.push([ts, stop.lat, stop.lon, 0, null, null]);
      }
    }
    const merged = [...kept, ...pins].sort((a, b) => a[0] - b[0]);
    // A pinned vertex keeps the heading the vehicle arrived with.
    for (let i = 1; i < merged.length; i++) {
      const p = merged[i]!;
      if (pins.includes(p) && p[5] === null)
        merged[i] = [p[0], p[1], p[2], p[3], merged[i - 1]![4], merged[i - 1]![5]];
    }
    return merged;
  });
  return makeTrack(segments);
}
