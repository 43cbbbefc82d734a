import type { TrackPoint } from "../../protocol/history.ts";
import type { GapRule } from "../history/gaps.ts";
import type { Bbox } from "../history/geo.ts";
import { buildChunkLevels, CHUNK_MS, chunkOf, LEVEL_COUNT } from "../history/levels.ts";
import type { Db } from "./database.ts";

/**
 * Marks the hours whose fixes changed, inside the transaction that changes them, so a crash can
 * never leave levels stale and unmarked. The hour after is marked too: its first vertex's gap
 * flag depends on the last fix before it. A memory of what is already marked keeps this to one
 * write per device per hour however fast fixes arrive.
 */
export class TrackMarks {
  private readonly marked = new Map<number, Set<number>>();
  private readonly insert;

  constructor(db: Db) {
    this.insert = db.prepare("INSERT OR IGNORE INTO track_dirty (device, chunk) VALUES (?, ?)");
  }

  /** Call inside the transaction that stores the fix. */
  mark(device: number, ts: number): void {
    const chunk = chunkOf(ts);
    let chunks = this.marked.get(device);
    if (chunks?.has(chunk)) return;
    if (!chunks) this.marked.set(device, (chunks = new Set()));
    for (const c of [chunk, chunk + 1]) {
      if (chunks.has(c)) continue;
      this.insert.run(device, c);
      chunks.add(c);
    }
  }

  /** The transaction rolled back: what we remember may not be on disk. */
  forgetAll(): void {
    this.marked.clear();
  }

  /** The hour's mark was cleared (its levels were rebuilt): the next fix in it marks it again. */
  forget(device: number, chunk: number): void {
    this.marked.get(device)?.delete(chunk);
    this.onForget?.(device, chunk);
  }

  /**
   * Set when another connection (the storage worker's) stores the fixes: its own TrackMarks must
   * hear of every cleared mark before it stores the next batch.
   */
  onForget: ((device: number, chunk: number) => void) | null = null;
}

/** What the store knows of one hour of a device before reading it. */
export interface ChunkSummary {
  chunk: number;
  /** Its fixes changed since its levels were built: read raw fixes, not levels. */
  dirty: boolean;
  /** Box of its fixes (and the fix before them); null when never summarised. */
  box: Bbox | null;
  /** [raw fixes, vertices at level 0, 1, …]; null when never summarised. */
  counts: number[] | null;
}

/** A stored vertex: the track point and whether the line breaks before it. */
type LevelRow = [...TrackPoint, brk: number];
type ChunkRow = [
  chunk: number,
  south: number,
  north: number,
  west: number,
  east: number,
  counts: string,
];

const TRACK_COLUMNS = "ts, lat, lon, speed, alt, course";

/**
 * Raw fixes of a range as one JSON array, written by SQLite: a day at 1 Hz (86,400 fixes) in a
 * third of the time it takes to read them into arrays and JSON.stringify them. SQLite writes reals
 * with 15 significant digits: ~10 nm in a coordinate.
 */
const RAW_POINTS_JSON = `
  SELECT '[' || coalesce(group_concat(json_array(${TRACK_COLUMNS}), ',' ORDER BY ts), '') || ']'
  FROM positions WHERE device = ? AND ts >= ? AND ts <= ? AND flag IS NULL`;

/** The only place that speaks SQL about level-of-detail tracks (see server/history/levels.ts). */
export class TrackStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly marks: TrackMarks,
  ) {
    this.stmt = {
      deviceKey: db.prepare("SELECT id FROM devices WHERE uid = ?").pluck(),
      raw: db
        .prepare(
          `SELECT ${TRACK_COLUMNS} FROM positions
           WHERE device = ? AND ts >= ? AND ts <= ? AND flag IS NULL ORDER BY ts`,
        )
        .raw(),
      before: db
        .prepare(
          `SELECT ${TRACK_COLUMNS} FROM positions
           WHERE device = ? AND ts < ? AND flag IS NULL ORDER BY ts DESC LIMIT 1`,
        )
        .raw(),
      rawJson: db.prepare(RAW_POINTS_JSON).pluck(),
      gapEnds: db
        .prepare(
          `SELECT ts FROM track_levels
           WHERE device = ? AND level = ? AND ts >= ? AND ts <= ? AND brk = 1 ORDER BY ts`,
        )
        .pluck(),
      firstLat: db
        .prepare(
          `SELECT lat FROM positions
           WHERE device = ? AND ts >= ? AND ts <= ? AND flag IS NULL ORDER BY ts LIMIT 1`,
        )
        .pluck(),
      level: db
        .prepare(
          `SELECT ${TRACK_COLUMNS}, brk FROM track_levels
           WHERE device = ? AND level = ? AND ts >= ? AND ts <= ? ORDER BY ts`,
        )
        .raw(),
      summaries: db
        .prepare(
          `SELECT chunk, south, north, west, east, counts FROM track_chunks
           WHERE device = ? AND chunk >= ? AND chunk <= ? ORDER BY chunk`,
        )
        .raw(),
      dirtyIn: db
        .prepare("SELECT chunk FROM track_dirty WHERE device = ? AND chunk >= ? AND chunk <= ?")
        .pluck(),
      due: db
        .prepare("SELECT device, chunk FROM track_dirty WHERE chunk <= ? ORDER BY chunk LIMIT ?")
        .raw(),
      pending: db.prepare("SELECT count(*) FROM track_dirty WHERE chunk <= ?").pluck(),
      deleteLevel: db.prepare(
        "DELETE FROM track_levels WHERE device = ? AND level = ? AND ts >= ? AND ts <= ?",
      ),
      insertLevel: db.prepare(
        `INSERT INTO track_levels (device, level, ${TRACK_COLUMNS}, brk)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      upsertSummary: db.prepare(
        `INSERT OR REPLACE INTO track_chunks (device, chunk, south, north, west, east, counts)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteSummary: db.prepare("DELETE FROM track_chunks WHERE device = ? AND chunk = ?"),
      clean: db.prepare("DELETE FROM track_dirty WHERE device = ? AND chunk = ?"),
      meta: db.prepare("SELECT value FROM track_meta WHERE key = ?").pluck(),
      setMeta: db.prepare("INSERT OR REPLACE INTO track_meta (key, value) VALUES (?, ?)"),
    };
  }

  /** The store's key of a device, or undefined for a device that never reported. */
  deviceKey(deviceId: string): number | undefined {
    return this.stmt.deviceKey.get(deviceId) as number | undefined;
  }

  /** Hours of a device from `fromChunk` to `toChunk` that hold fixes or may, in order. */
  chunks(device: number, fromChunk: number, toChunk: number): ChunkSummary[] {
    const dirty = new Set(this.stmt.dirtyIn.all(device, fromChunk, toChunk) as number[]);
    const out: ChunkSummary[] = [];
    for (const [chunk, south, north, west, east, counts] of this.stmt.summaries.all(
      device,
      fromChunk,
      toChunk,
    ) as ChunkRow[]) {
      out.push({
        chunk,
        dirty: dirty.delete(chunk),
        box: { south, north, west, east },
        counts: JSON.parse(counts) as number[],
      });
    }
    for (const chunk of dirty) out.push({ chunk, dirty: true, box: null, counts: null });
    return out.sort((a, b) => a.chunk - b.chunk);
  }

  /** Plausible raw fixes, oldest first, as track points. */
  /** `raw()` as JSON text (see RAW_POINTS_JSON). */
  rawJson(device: number, from: number, to: number): string {
    return this.stmt.rawJson.get(device, from, to) as string;
  }

  /**
   * Times of the fixes in a range that follow a gap, from a level's flags (every level keeps both
   * ends of every gap). Only for hours whose levels are up to date.
   */
  gapEnds(device: number, level: number, from: number, to: number): number[] {
    return this.stmt.gapEnds.all(device, level, from, to) as number[];
  }

  raw(device: number, from: number, to: number): TrackPoint[] {
    return this.stmt.raw.all(device, from, to) as TrackPoint[];
  }

  firstLat(device: number, from: number, to: number): number | undefined {
    return this.stmt.firstLat.get(device, from, to) as number | undefined;
  }

  /** Vertices of one level, with per vertex whether the line breaks before it. */
  level(
    device: number,
    level: number,
    from: number,
    to: number,
  ): { points: TrackPoint[]; breakBefore: Uint8Array } {
    const rows = this.stmt.level.all(device, level, from, to) as LevelRow[];
    const breakBefore = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) breakBefore[i] = rows[i]!.pop()!;
    return { points: rows as unknown as TrackPoint[], breakBefore };
  }

  /** Marked hours that ended at or before `maxChunk`, oldest first. */
  due(maxChunk: number, limit: number): [device: number, chunk: number][] {
    return this.stmt.due.all(maxChunk, limit) as [number, number][];
  }

  pending(maxChunk = Number.MAX_SAFE_INTEGER): number {
    return this.stmt.pending.get(maxChunk) as number;
  }

  /**
   * Rebuild every level of one hour of one device from its raw fixes, and clear its mark, in one
   * transaction (a fix stored meanwhile marks it again). Returns the raw fixes it read.
   */
  rebuild(device: number, chunk: number, rule: GapRule): number {
    const from = chunk * CHUNK_MS;
    const to = from + CHUNK_MS - 1;
    const count = this.db.transaction(() => {
      const raw = this.raw(device, from, to);
      const previous = (this.stmt.before.get(device, from) as TrackPoint | undefined) ?? null;
      for (let level = 0; level < LEVEL_COUNT; level++) {
        this.stmt.deleteLevel.run(device, level, from, to);
      }
      this.stmt.clean.run(device, chunk);
      if (raw.length === 0) {
        this.stmt.deleteSummary.run(device, chunk);
        return 0;
      }
      const levels = buildChunkLevels(rule, raw, previous);
      levels.forEach(({ points, breakBefore }, level) => {
        points.forEach(([ts, lat, lon, speed, alt, course], i) =>
          this.stmt.insertLevel.run(
            device,
            level,
            ts,
            lat,
            lon,
            speed,
            alt,
            course,
            breakBefore[i],
          ),
        );
      });
      const box = boxOf(previous ? [previous, ...raw] : raw);
      const counts = [raw.length, ...levels.map((l) => l.points.length)];
      this.stmt.upsertSummary.run(
        device,
        chunk,
        box.south,
        box.north,
        box.west,
        box.east,
        JSON.stringify(counts),
      );
      return raw.length;
    })();
    this.marks.forget(device, chunk);
    return count;
  }

  /**
   * Levels depend on the rules they were built with (gap thresholds, tolerances, hour length).
   * When those differ from what the database was built with, drop every level and mark every hour
   * with fixes for rebuilding. Returns true when it did.
   */
  resetIfChanged(parameters: string): boolean {
    const stored = this.stmt.meta.get("levels") as string | undefined;
    if (stored === parameters) return false;
    this.db.transaction(() => {
      if (stored !== undefined) {
        this.db.exec("DELETE FROM track_levels; DELETE FROM track_chunks;");
        this.markAll();
      }
      this.stmt.setMeta.run("levels", parameters);
    })();
    return stored !== undefined;
  }

  /** Mark every hour that holds fixes (after a bulk load that bypassed the position store). */
  markAll(): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO track_dirty (device, chunk)
         SELECT DISTINCT device, ts / ${CHUNK_MS} FROM positions`,
      )
      .run();
  }
}

function boxOf(points: readonly TrackPoint[]): Bbox {
  const box = { south: Infinity, north: -Infinity, west: Infinity, east: -Infinity };
  for (const [, lat, lon] of points) {
    if (lat < box.south) box.south = lat;
    if (lat > box.north) box.north = lat;
    if (lon < box.west) box.west = lon;
    if (lon > box.east) box.east = lon;
  }
  return box;
}
