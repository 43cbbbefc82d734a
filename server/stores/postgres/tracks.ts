import type pg from "pg";
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
import { arrayRows, inTransaction } from "./database.ts";

const TRACK_COLUMNS = "ts, lat, lon, speed, alt, course";
const PLAUSIBLE_IN_RANGE = "device = $1 AND ts >= $2 AND ts <= $3 AND flag IS NULL";

/** The only place that speaks PostgreSQL about level-of-detail tracks (see server/history/levels.ts). */
export class PgTrackStore implements TrackStore {
  constructor(private readonly pool: pg.Pool) {}

  private all<R extends unknown[]>(text: string, values: unknown[]): Promise<R[]> {
    return arrayRows<R>(this.pool, text, values);
  }

  async device(deviceId: string): Promise<TrackDevice | undefined> {
    const { rows } = await this.pool.query<{ id: number }>(
      "SELECT id FROM devices WHERE uid = $1",
      [deviceId],
    );
    return rows[0]?.id;
  }

  async chunks(device: TrackDevice, fromChunk: number, toChunk: number): Promise<ChunkSummary[]> {
    const range = [device, fromChunk, toChunk];
    const [dirtyRows, summaries] = await Promise.all([
      this.all<[number]>(
        "SELECT chunk FROM track_dirty WHERE device = $1 AND chunk >= $2 AND chunk <= $3",
        range,
      ),
      this.all<[number, number, number, number, number, number[]]>(
        `SELECT chunk, south, north, west, east, counts FROM track_chunks
         WHERE device = $1 AND chunk >= $2 AND chunk <= $3 ORDER BY chunk`,
        range,
      ),
    ]);
    const dirty = new Set(dirtyRows.map((r) => r[0]));
    const out: ChunkSummary[] = summaries.map(([chunk, south, north, west, east, counts]) => ({
      chunk,
      dirty: dirty.delete(chunk),
      box: { south, north, west, east },
      counts,
    }));
    for (const chunk of dirty) out.push({ chunk, dirty: true, box: null, counts: null });
    return out.sort((a, b) => a.chunk - b.chunk);
  }

  raw(device: TrackDevice, from: number, to: number): Promise<TrackPoint[]> {
    return this.all<TrackPoint>(
      `SELECT ${TRACK_COLUMNS} FROM positions WHERE ${PLAUSIBLE_IN_RANGE} ORDER BY ts`,
      [device, from, to],
    );
  }

  /**
   * Written by PostgreSQL, compact like SQLite's (splitJsonAt cuts it at ",[ts,"); doubles print in
   * their shortest exact form.
   */
  async rawJson(device: TrackDevice, from: number, to: number): Promise<string> {
    const [row] = await this.all<[string]>(
      `SELECT '[' || coalesce(string_agg(
                '[' || ts || ',' || lat || ',' || lon || ',' || coalesce(speed::text, 'null') || ','
                    || coalesce(alt::text, 'null') || ',' || coalesce(course::text, 'null') || ']',
                ',' ORDER BY ts), '') || ']'
       FROM positions WHERE ${PLAUSIBLE_IN_RANGE}`,
      [device, from, to],
    );
    return row![0];
  }

  async gapEnds(device: TrackDevice, level: number, from: number, to: number): Promise<number[]> {
    const rows = await this.all<[number]>(
      `SELECT ts FROM track_levels
       WHERE device = $1 AND level = $2 AND ts >= $3 AND ts <= $4 AND brk ORDER BY ts`,
      [device, level, from, to],
    );
    return rows.map((r) => r[0]);
  }

  async level(device: TrackDevice, level: number, from: number, to: number): Promise<BrokenLine> {
    const rows = await this.all<[...TrackPoint, boolean]>(
      `SELECT ${TRACK_COLUMNS}, brk FROM track_levels
       WHERE device = $1 AND level = $2 AND ts >= $3 AND ts <= $4 ORDER BY ts`,
      [device, level, from, to],
    );
    const breakBefore = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) breakBefore[i] = rows[i]!.pop() ? 1 : 0;
    return { points: rows as unknown as TrackPoint[], breakBefore };
  }

  async firstLat(device: TrackDevice, from: number, to: number): Promise<number | undefined> {
    const rows = await this.all<[number]>(
      `SELECT lat FROM positions WHERE ${PLAUSIBLE_IN_RANGE} ORDER BY ts LIMIT 1`,
      [device, from, to],
    );
    return rows[0]?.[0];
  }

  due(maxChunk: number, limit: number): Promise<[TrackDevice, number][]> {
    return this.all<[number, number]>(
      "SELECT device, chunk FROM track_dirty WHERE chunk <= $1 ORDER BY chunk LIMIT $2",
      [maxChunk, limit],
    );
  }

  async pending(maxChunk = Number.MAX_SAFE_INTEGER): Promise<number> {
    const [row] = await this.all<[number]>("SELECT count(*) FROM track_dirty WHERE chunk <= $1", [
      maxChunk,
    ]);
    return row![0];
  }

  async rebuild(
    hours: readonly [device: TrackDevice, chunk: number][],
    build: ChunkLevelBuilder,
    levelCount: number,
    budgetMs: number,
  ): Promise<{ hours: number; fixes: number }> {
    const deadline = performance.now() + budgetMs;
    const done = { hours: 0, fixes: 0 };
    for (const [device, chunk] of hours) {
      done.fixes += await inTransaction(this.pool, (client) =>
        rebuildHour(client, device, chunk, build, levelCount),
      );
      done.hours++;
      if (performance.now() >= deadline) break;
    }
    return done;
  }

  resetIfChanged(parameters: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      // Nodes starting together with new rules reset once: the row lock orders them.
      const { rows } = await client.query<{ value: string }>(
        "SELECT value FROM track_meta WHERE key = 'levels' FOR UPDATE",
      );
      const stored = rows[0]?.value;
      if (stored === parameters) return false;
      if (stored !== undefined) {
        await client.query("DELETE FROM track_levels");
        await client.query("DELETE FROM track_chunks");
        await client.query(
          `INSERT INTO track_dirty (device, chunk)
           SELECT DISTINCT device, ts / ${CHUNK_MS} FROM positions ON CONFLICT DO NOTHING`,
        );
      }
      await client.query(
        `INSERT INTO track_meta (key, value) VALUES ('levels', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [parameters],
      );
      return stored !== undefined;
    });
  }
}

/**
 * One hour, as one transaction. Its mark is deleted first: a fix stored meanwhile by any node
 * either is committed before that delete (and read below), or re-inserts the mark after it (its
 * insert waits on the deleted row's lock until this commits), so the hour is built again.
 */
async function rebuildHour(
  client: pg.PoolClient,
  device: TrackDevice,
  chunk: number,
  build: ChunkLevelBuilder,
  levelCount: number,
): Promise<number> {
  const from = chunk * CHUNK_MS;
  const to = from + CHUNK_MS - 1;
  await client.query("DELETE FROM track_dirty WHERE device = $1 AND chunk = $2", [device, chunk]);
  const raw = await arrayRows<TrackPoint>(
    client,
    `SELECT ${TRACK_COLUMNS} FROM positions WHERE ${PLAUSIBLE_IN_RANGE} ORDER BY ts`,
    [device, from, to],
  );
  const [previous = null] = await arrayRows<TrackPoint>(
    client,
    `SELECT ${TRACK_COLUMNS} FROM positions
     WHERE device = $1 AND ts < $2 AND flag IS NULL ORDER BY ts DESC LIMIT 1`,
    [device, from],
  );
  await client.query(
    "DELETE FROM track_levels WHERE device = $1 AND level < $2 AND ts >= $3 AND ts <= $4",
    [device, levelCount, from, to],
  );
  if (raw.length === 0) {
    await client.query("DELETE FROM track_chunks WHERE device = $1 AND chunk = $2", [
      device,
      chunk,
    ]);
    return 0;
  }
  const levels = build(raw, previous);
  const columns: number[][] = [[], [], [], [], [], [], []];
  const breaks: boolean[] = [];
  levels.forEach(({ points, breakBefore }, level) => {
    points.forEach((point, i) => {
      columns[0]!.push(level);
      for (let c = 0; c < 6; c++) columns[c + 1]!.push(point[c] as number);
      breaks.push(breakBefore[i] === 1);
    });
  });
  await client.query({
    name: "locus-insert-levels",
    text: `INSERT INTO track_levels (device, level, ${TRACK_COLUMNS}, brk)
           SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::float8[], $5::float8[],
             $6::float8[], $7::float8[], $8::float8[], $9::boolean[])`,
    values: [device, ...columns, breaks],
  });
  const box = boxOf(previous ? [previous, ...raw] : raw);
  await client.query(
    `INSERT INTO track_chunks (device, chunk, south, north, west, east, counts)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (device, chunk) DO UPDATE SET south = excluded.south, north = excluded.north,
       west = excluded.west, east = excluded.east, counts = excluded.counts`,
    [
      device,
      chunk,
      box.south,
      box.north,
      box.west,
      box.east,
      JSON.stringify([raw.length, ...levels.map((l) => l.points.length)]),
    ],
  );
  return raw.length;
}
