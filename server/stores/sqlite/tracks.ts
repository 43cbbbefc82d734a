import type { TrackPoint } from "../../../protocol/history.ts";
import {
  CHUNK_MS,
  type BrokenLine,
  type ChunkLevelBuilder,
  type ChunkSummary,
  type TrackDevice,
  type TrackStore,
} from "../ports.ts";
import { boxOf } from "../rows.ts";
import type { Db } from "./database.ts";
import type { DeviceKeys, Exclusive } from "./device-keys.ts";
import type { TrackMarks } from "./track-marks.ts";

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
export class SqliteTrackStore implements TrackStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly keys: DeviceKeys,
    private readonly marks: TrackMarks,
    /** Level writes run between the storage worker's transactions (see WorkerWriter). */
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
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

  async device(deviceId: string): Promise<TrackDevice | undefined> {
    return this.keys.get(deviceId);
  }

  async chunks(device: TrackDevice, fromChunk: number, toChunk: number): Promise<ChunkSummary[]> {
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

  async rawJson(device: TrackDevice, from: number, to: number): Promise<string> {
    return this.stmt.rawJson.get(device, from, to) as string;
  }

  async gapEnds(device: TrackDevice, level: number, from: number, to: number): Promise<number[]> {
    return this.stmt.gapEnds.all(device, level, from, to) as number[];
  }

  async raw(device: TrackDevice, from: number, to: number): Promise<TrackPoint[]> {
    return this.stmt.raw.all(device, from, to) as TrackPoint[];
  }

  async firstLat(device: TrackDevice, from: number, to: number): Promise<number | undefined> {
    return this.stmt.firstLat.get(device, from, to) as number | undefined;
  }

  async level(device: TrackDevice, level: number, from: number, to: number): Promise<BrokenLine> {
    const rows = this.stmt.level.all(device, level, from, to) as LevelRow[];
    const breakBefore = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) breakBefore[i] = rows[i]!.pop()!;
    return { points: rows as unknown as TrackPoint[], breakBefore };
  }

  async due(maxChunk: number, limit: number): Promise<[TrackDevice, number][]> {
    return this.stmt.due.all(maxChunk, limit) as [number, number][];
  }

  async pending(maxChunk = Number.MAX_SAFE_INTEGER): Promise<number> {
    return this.stmt.pending.get(maxChunk) as number;
  }

  rebuild(
    hours: readonly [device: TrackDevice, chunk: number][],
    build: ChunkLevelBuilder,
    levelCount: number,
    budgetMs: number,
  ): Promise<{ hours: number; fixes: number }> {
    return this.exclusive(() => {
      const deadline = performance.now() + budgetMs;
      const done = { hours: 0, fixes: 0 };
      for (const [device, chunk] of hours) {
        done.fixes += this.db.transaction(() =>
          this.rebuildNow(device, chunk, build, levelCount),
        )();
        done.hours++;
        this.marks.forget(device, chunk);
        if (performance.now() >= deadline) break;
      }
      return done;
    });
  }

  private rebuildNow(
    device: TrackDevice,
    chunk: number,
    build: ChunkLevelBuilder,
    levelCount: number,
  ): number {
    const from = chunk * CHUNK_MS;
    const to = from + CHUNK_MS - 1;
    const raw = this.stmt.raw.all(device, from, to) as TrackPoint[];
    const previous = (this.stmt.before.get(device, from) as TrackPoint | undefined) ?? null;
    for (let level = 0; level < levelCount; level++) {
      this.stmt.deleteLevel.run(device, level, from, to);
    }
    this.stmt.clean.run(device, chunk);
    if (raw.length === 0) {
      this.stmt.deleteSummary.run(device, chunk);
      return 0;
    }
    const levels = build(raw, previous);
    levels.forEach(({ points, breakBefore }, level) => {
      points.forEach(([ts, lat, lon, speed, alt, course], i) =>
        this.stmt.insertLevel.run(device, level, ts, lat, lon, speed, alt, course, breakBefore[i]),
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
  }

  resetIfChanged(parameters: string): Promise<boolean> {
    return this.exclusive(() => {
      const stored = this.stmt.meta.get("levels") as string | undefined;
      if (stored === parameters) return false;
      this.db.transaction(() => {
        if (stored !== undefined) {
          this.db.exec("DELETE FROM track_levels; DELETE FROM track_chunks;");
          markAllChunks(this.db);
        }
        this.stmt.setMeta.run("levels", parameters);
      })();
      return stored !== undefined;
    });
  }
}

/** Mark every hour that holds fixes (after a bulk load that bypassed the position store). */
export function markAllChunks(db: Db): void {
  db.prepare(
    `INSERT OR IGNORE INTO track_dirty (device, chunk)
     SELECT DISTINCT device, ts / ${CHUNK_MS} FROM positions`,
  ).run();
}
