import type { Track } from "./track.ts";
import { lastAtOrBefore } from "./track.ts";

/** Replay speeds offered, as multiples of real time. */
export const REPLAY_SPEEDS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1000] as const;

/**
 * The next replay time after `elapsedMs` of wall-clock time at `speed`×. Stretches with no data
 * are skipped rather than played: at 10× an overnight gap would otherwise be an hour of nothing.
 * Returns the track's last fix time (or `end`) once playback runs past it.
 */
export function advance(
  track: Track | null,
  t: number,
  elapsedMs: number,
  speed: number,
  end: number,
): number {
  let next = t + elapsedMs * speed;
  if (!track || track.segments.length === 0) return Math.min(next, end);
  const stop = Math.min(end, track.last);
  if (next >= stop) return stop;
  const s = lastAtOrBefore(track.starts, next);
  // Before the first fix, or past the end of a segment: go to the start of the next one.
  if (s < 0) next = Math.max(next, track.starts[0]!);
  else if (next > track.ends[s]! && s + 1 < track.starts.length) next = track.starts[s + 1]!;
  return Math.min(next, stop);
}

/** Where play starts: the cursor, unless it is at (or past) the end, then the first fix. */
export function playStart(track: Track | null, t: number, from: number): number {
  if (!track || track.segments.length === 0) return t;
  if (t >= track.last) return Math.max(from, track.first);
  return Math.max(t, track.first);
}
