import type { TrackPoint } from "../../protocol/history.ts";
import type { Bbox } from "../../protocol/geo.ts";
import {
  CHUNK_MS,
  chunkOf,
  type BrokenLine,
  type ChunkSummary,
  type TrackDevice,
  type TrackStore,
} from "../stores/ports.ts";
import { gapFlags, splitAt, splitJsonAt, type GapRule } from "./gaps.ts";
import { clipToBox } from "./clip.ts";
import { metresPerPixel } from "./geo.ts";
import { LEVEL_COUNT, LEVEL_TOLERANCES_M, levelFor, levelTolerance } from "./levels.ts";
import { simplifyLine } from "./simplify.ts";

export const TRACK_LIMITS = {
  /** Most vertices in a simplified reply; the tolerance is raised until the line fits. */
  maxVertices: 5_000,
  /** Most fixes in a raw reply (tolerance 0): a day at 1 Hz. Beyond, the reply is simplified. */
  maxRawPoints: 100_000,
  /**
   * Most rows a query reads before it moves to a coarser level (and twice that level's
   * tolerance). Reading is most of a query's time, and a level more than a few times the cap
   * simplifies to more than the cap anyway, which then raises the tolerance just the same.
   */
  readBudget: 30_000,
  /**
   * Most hours whose levels are out of date (read raw instead) in one query. More means the
   * background builder is catching up (after an upgrade or a large import): answer "retry" rather
   * than read millions of raw fixes.
   */
  maxDirtyChunks: 48,
  /** Screen pixels of error a zoom's tolerance allows. */
  pixels: 1,
  /**
   * A zoom whose pixel is finer than this (metres) gets raw fixes, within the vertex cap: GPS
   * noise is metres, so simplifying to centimetres would only cost time.
   */
  rawBelowM: 0.5,
};

export type TrackLimits = typeof TRACK_LIMITS;

export interface TrackQuery {
  device: TrackDevice;
  from: number;
  to: number;
  /** Either a tolerance in metres (0: raw fixes) or a map zoom. */
  detail: { toleranceM: number } | { zoom: number };
  bbox?: Bbox;
  /** The caller can take raw segments as JSON text (`segmentsJson`), which is much faster. */
  json?: boolean;
}

export interface TrackResult {
  toleranceM: number;
  /** Empty when `segmentsJson` holds them instead. */
  segments: TrackPoint[][];
  segmentsJson?: string;
  /** What it cost, for the Server-Timing header. */
  timing: { readMs: number; simplifyMs: number; level: number; rowsRead: number };
}

/** More hours than `maxDirtyChunks` await the background builder. */
export class TrackNotReady extends Error {
  constructor(readonly dirtyChunks: number) {
    super(`${dirtyChunks} hours of this track are still being summarised; retry in a few seconds`);
  }
}

type Source = Pick<TrackStore, "chunks" | "raw" | "rawJson" | "gapEnds" | "level" | "firstLat">;

/**
 * The track of one device for a view: read the coarsest summary level that is still fine enough
 * (raw fixes where levels are stale, or at the edges of the range), clip it to the view, break it
 * at gaps, simplify it to the requested tolerance, and raise the tolerance until it fits the
 * vertex cap. The reply's tolerance is an honest bound: every fix left out lies within it.
 */
export async function queryTrack(
  source: Source,
  rule: GapRule,
  query: TrackQuery,
  limits: TrackLimits = TRACK_LIMITS,
): Promise<TrackResult> {
  const started = performance.now();
  const { device, from, to, bbox } = query;
  const all = await source.chunks(device, chunkOf(from), chunkOf(to));
  const dirty = all.filter((c) => c.dirty).length;
  if (dirty > limits.maxDirtyChunks) throw new TrackNotReady(dirty);
  const runs = relevantRuns(all, bbox);

  let tolerance: number;
  // Raw fixes asked for explicitly have their own, larger cap (a day at 1 Hz).
  const explicitRaw = "toleranceM" in query.detail && query.detail.toleranceM === 0;
  if ("toleranceM" in query.detail) tolerance = query.detail.toleranceM;
  else {
    const lat = bbox
      ? (bbox.south + bbox.north) / 2
      : ((await source.firstLat(device, from, to)) ?? 0);
    tolerance = metresPerPixel(query.detail.zoom, lat) * limits.pixels;
    if (tolerance < limits.rawBelowM) tolerance = 0;
  }
  const raw = tolerance === 0;
  const cap = explicitRaw ? limits.maxRawPoints : limits.maxVertices;

  // The finest level that fits the read budget. Raw where levels are stale and in partial hours
  // at the edges of the range (a level vertex may lie outside it; raw fixes are exact).
  const isRawChunk = (c: ChunkSummary) =>
    c.dirty || c.chunk * CHUNK_MS < from || (c.chunk + 1) * CHUNK_MS - 1 > to;
  const estimate = (level: number) =>
    runs
      .flat()
      .reduce(
        (sum, c) =>
          sum +
          (isRawChunk(c) || !c.counts ? (c.counts?.[0] ?? CHUNK_MS / 1000) : c.counts[level + 1]!),
        0,
      );
  let level = raw ? -1 : levelFor(tolerance);
  const budget = explicitRaw ? limits.maxRawPoints : limits.readBudget;
  while (estimate(level) > budget && level < LEVEL_COUNT - 1) {
    level++;
    tolerance = Math.max(tolerance, 2 * LEVEL_TOLERANCES_M[level]!);
  }

  // Every raw fix of a range whose levels are up to date, within the cap: SQLite writes the JSON
  // and the levels say where the gaps are, so no fix becomes a JavaScript value.
  const clean = runs.every((run) => run.every((c) => !c.dirty && c.counts));
  if (query.json && level < 0 && !bbox && clean && estimate(level) <= cap) {
    const gapEnds = await source.gapEnds(device, LEVEL_COUNT - 1, from, to);
    const segmentsJson = splitJsonAt(await source.rawJson(device, from, to), gapEnds);
    const readMs = performance.now() - started;
    return {
      toleranceM: 0,
      segments: [],
      segmentsJson,
      timing: { readMs, simplifyMs: 0, level, rowsRead: estimate(level) },
    };
  }

  const read = await readRuns(source, rule, { device, from, to, level }, runs, isRawChunk);
  const readDone = performance.now();
  const kept = bbox ? clipToBox(bbox, read.points, read.breakBefore) : read;
  let segments = splitAt(kept.points, kept.breakBefore);

  // Raw fixes if they fit; otherwise simplified like any other reply, from half a metre up.
  if (tolerance === 0 && kept.points.length > cap) tolerance = limits.rawBelowM;
  if (tolerance > 0) {
    segments = segments.map((s) => simplifyLine(s, tolerance - levelTolerance(level)));
    // Over the cap: simplify the result again. It is within `tolerance` of every fix, so doubling
    // the tolerance leaves `tolerance` for this pass (the same bound as building the levels).
    while (segments.reduce((n, s) => n + s.length, 0) > limits.maxVertices) {
      segments = segments.map((s) => simplifyLine(s, tolerance));
      tolerance *= 2;
    }
  }
  return {
    toleranceM: tolerance,
    segments,
    timing: {
      readMs: readDone - started,
      simplifyMs: performance.now() - readDone,
      level,
      rowsRead: read.points.length,
    },
  };
}

type Part = BrokenLine;

/**
 * Read each run of hours as a few range scans: consecutive hours from the same source (the level,
 * or raw fixes) in one. Raw parts get their gap flags here; a run's first fix always breaks.
 */
async function readRuns(
  source: Source,
  rule: GapRule,
  { device, from, to, level }: { device: TrackDevice; from: number; to: number; level: number },
  runs: ChunkSummary[][],
  isRawChunk: (c: ChunkSummary) => boolean,
): Promise<Part> {
  const parts: Part[] = [];
  for (const run of runs) {
    let runStart = true;
    for (let i = 0; i < run.length;) {
      const rawPart = level < 0 || isRawChunk(run[i]!);
      let j = i;
      while (j + 1 < run.length && (level < 0 || isRawChunk(run[j + 1]!)) === rawPart) j++;
      const lo = Math.max(from, run[i]!.chunk * CHUNK_MS);
      const hi = Math.min(to, (run[j]!.chunk + 1) * CHUNK_MS - 1);
      const previous = runStart ? null : (parts.at(-1)?.points.at(-1) ?? null);
      let part: Part;
      if (rawPart) {
        const points = await source.raw(device, lo, hi);
        part = { points, breakBefore: gapFlags(rule, points, previous) };
      } else {
        part = await source.level(device, level, lo, hi);
      }
      if (part.points.length > 0) {
        if (runStart) part.breakBefore[0] = 1;
        runStart = false;
        parts.push(part);
      }
      i = j + 1;
    }
  }
  // Usually one part (a range with no stale hour): use it as is, 86,400 rows need no copy.
  if (parts.length === 1) return parts[0]!;
  const breakBefore = new Uint8Array(parts.reduce((n, p) => n + p.points.length, 0));
  let at = 0;
  for (const p of parts) {
    breakBefore.set(p.breakBefore, at);
    at += p.points.length;
  }
  return { points: parts.flatMap((p) => p.points), breakBefore };
}

/**
 * The hours worth reading, in runs of hours that follow each other in the data (no hour with fixes
 * skipped between them: a skipped hour means the line must break). Without a view that is every
 * hour; with one, hours whose box meets it plus one hour either side, whose fixes are the
 * neighbours through which the line enters and leaves the view. Stale hours have no box: read.
 */
function relevantRuns(all: ChunkSummary[], bbox: Bbox | undefined): ChunkSummary[][] {
  if (!bbox) return all.length > 0 ? [all] : [];
  // A stale hour's box may predate its new fixes: read it whatever its box says.
  const meets = all.map((c) => c.dirty || !c.box || boxesMeet(c.box, bbox));
  const wanted = all.map((_, i) => meets[i] || meets[i - 1] === true || meets[i + 1] === true);
  const runs: ChunkSummary[][] = [];
  all.forEach((c, i) => {
    if (!wanted[i]) return;
    if (i > 0 && wanted[i - 1]) runs.at(-1)!.push(c);
    else runs.push([c]);
  });
  return runs;
}

function boxesMeet(a: Bbox, b: Bbox): boolean {
  return a.west <= b.east && a.east >= b.west && a.south <= b.north && a.north >= b.south;
}
