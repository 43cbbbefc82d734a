import type { TrackPoint } from "../../protocol/history.ts";
import type { BrokenLine } from "../stores/ports.ts";
import { gapFlags, splitAt, type GapRule } from "./gaps.ts";
import { simplifyLine } from "./simplify.ts";

/**
 * Summary levels precomputed per device: level k is the track simplified to LEVEL_TOLERANCES_M[k]
 * metres. A factor 4 between levels means a query can always use a level at most half its own
 * tolerance and still leave itself half for the final pass (see `levelFor`).
 */
export const LEVEL_TOLERANCES_M: readonly number[] = [5, 20, 80, 320, 1280, 5120, 20480, 81920];
export const LEVEL_COUNT = LEVEL_TOLERANCES_M.length;

/*
 * Levels are built per hour of each device (CHUNK_MS, in the storage ports): a late fix rebuilds
 * one hour, and an hour at 1 Hz is 3,600 fixes, a few milliseconds of work. Each hour keeps its
 * first and last fix in every level, so hours join exactly and a year costs at least 2 × 8,760
 * vertices at any level — a query's final pass merges those away.
 */

/**
 * The coarsest level whose tolerance leaves at least half of `toleranceM` for the final pass, or
 * -1 (raw fixes) when even level 0 is too coarse for that.
 */
export function levelFor(toleranceM: number): number {
  let level = -1;
  for (let k = 0; k < LEVEL_COUNT; k++) if (LEVEL_TOLERANCES_M[k]! * 2 <= toleranceM) level = k;
  return level;
}

/** Tolerance a level's vertices already carry (0 for raw fixes). */
export const levelTolerance = (level: number) => (level < 0 ? 0 : LEVEL_TOLERANCES_M[level]!);

/**
 * Every level of one chunk from its raw fixes. `previous` is the last fix before the chunk (or
 * null): it decides whether the line joins the previous hour or breaks.
 *
 * Gaps are found on the raw fixes and pieces are simplified separately, so the fixes on both sides
 * of every gap survive in every level: a query can then break lines where the data has gaps without
 * ever looking at raw fixes. Level k is simplified from level k-1 with 3/4 of its tolerance: a
 * raw fix within e of level k-1 is within e + t of level k (distance to a segment is convex), and
 * with e = T(k-1) = T(k)/4, e + 3/4·T(k) = T(k). Building from the previous level keeps the cost
 * of the coarse levels negligible.
 */
export function buildChunkLevels(
  rule: GapRule,
  raw: readonly TrackPoint[],
  previous: TrackPoint | null,
): BrokenLine[] {
  const flags = gapFlags(rule, raw, previous);
  let pieces = splitAt(raw, flags);
  // Every piece after the first starts at a gap; the first one joins `previous` or not.
  const firstBreaks = pieces.map((_, i) => (i === 0 ? flags[0]! : 1));
  const levels: BrokenLine[] = [];
  for (let k = 0; k < LEVEL_COUNT; k++) {
    const tolerance = k === 0 ? LEVEL_TOLERANCES_M[0]! : LEVEL_TOLERANCES_M[k]! * 0.75;
    pieces = pieces.map((piece) => simplifyLine(piece, tolerance));
    const points = pieces.flat();
    const breakBefore = new Uint8Array(points.length);
    let at = 0;
    pieces.forEach((piece, i) => {
      breakBefore[at] = firstBreaks[i]!;
      at += piece.length;
    });
    levels.push({ points, breakBefore });
  }
  return levels;
}
