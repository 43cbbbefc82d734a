import type { TrackPoint } from "../../protocol/history.ts";
import { distanceM } from "../../protocol/geo.ts";

/**
 * When two consecutive fixes are too far apart in time or space to be joined by a straight line:
 * the device was off, underground or out of coverage, and a line would invent a path.
 */
export interface GapRule {
  maxGapMs: number;
  maxJumpM: number;
}

export function isGap(rule: GapRule, a: TrackPoint, b: TrackPoint): boolean {
  if (b[0] - a[0] > rule.maxGapMs) return true;
  return distanceM(a[1], a[2], b[1], b[2]) > rule.maxJumpM;
}

/**
 * Per fix, whether the line breaks before it: 1 for the first fix (unless `previous`, the fix
 * just before these, joins it) and after every gap.
 */
export function gapFlags(
  rule: GapRule,
  points: readonly TrackPoint[],
  previous: TrackPoint | null = null,
): Uint8Array {
  const flags = new Uint8Array(points.length);
  let prev = previous;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    flags[i] = prev === null || isGap(rule, prev, p) ? 1 : 0;
    prev = p;
  }
  return flags;
}

/** Cut a run of fixes into pieces wherever `breakBefore` is set (always before the first). */
export function splitAt<T>(points: readonly T[], breakBefore: Uint8Array): T[][] {
  const pieces: T[][] = [];
  let start = 0;
  for (let i = 1; i <= points.length; i++) {
    if (i === points.length || breakBefore[i]) {
      if (i > start) pieces.push(points.slice(start, i));
      start = i;
    }
  }
  return pieces;
}

/**
 * The JSON of TrackReply.segments from the JSON array of a range's fixes (`[[ts,…],[ts,…],…]`)
 * and the times of the fixes that follow a gap: the array is cut before each of those fixes by
 * text, without parsing it. Inside the array a `[` only ever opens a fix, so `,[ts,` finds
 * exactly the comma before that fix.
 */
export function splitJsonAt(pointsJson: string, gapEnds: readonly number[]): string {
  if (pointsJson === "[]") return "[]";
  // pointsJson is "[" E1 "," E2 … "]": a piece is "[" Ei … Ej "]", cut at the comma before a gap.
  const pieces: string[] = [];
  let start = 1;
  for (const ts of gapEnds) {
    const comma = pointsJson.indexOf(`,[${ts},`, start);
    if (comma < 0) continue; // the range's first fix: it starts a piece anyway
    pieces.push(`[${pointsJson.slice(start, comma)}]`);
    start = comma + 1;
  }
  pieces.push(`[${pointsJson.slice(start)}`);
  return `[${pieces.join(",")}]`;
}
