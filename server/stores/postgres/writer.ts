import type pg from "pg";
import type { BatchWriter } from "../group-commit.ts";
import { chunkOf, type NewPosition } from "../ports.ts";
import { Partitions } from "./partitions.ts";

export type PgBatch = readonly NewPosition[];

/**
 * Writes one group commit to PostgreSQL in one transaction of three statements, whatever the
 * number of rows: the devices (created when new), the fixes, and the marks of the hours whose
 * levels they make stale. Rows travel as one array per column (`unnest`), which keeps every
 * statement the same text (planned once per connection) and clear of the 65,535-parameter limit.
 *
 * Device ids are resolved inside the transaction rather than from a cache: another node may have
 * removed or created the device a moment ago, and a removed device that reports again is created
 * again rather than its rows lost (as in SQLite).
 *
 * Rows are written in (device, ts) order, so two nodes writing overlapping keys (a device that
 * moved and resent) take their row locks in the same order and cannot deadlock.
 */
export class PgPositionWriter implements BatchWriter<PgBatch> {
  /**
   * Hours this node has marked, for hours not over yet only: the level builder (on whichever node)
   * clears a mark only once its hour has ended and settled, so within the hour a mark this node
   * wrote is still there and need not be written again. Cleared when the hour turns.
   */
  private marked = new Set<string>();
  private markedHour = -1;

  constructor(
    private readonly pool: pg.Pool,
    private readonly partitions: Partitions,
    private readonly now: () => number,
  ) {}

  async write(batches: readonly PgBatch[]): Promise<Uint8Array> {
    const rows = batches.length === 1 ? batches[0]! : batches.flat();
    const order = rows.map((_, i) => i);
    order.sort((a, b) => compareRows(rows[a]!, rows[b]!));
    await this.partitions.ensureFor(rows.map((r) => r.position.ts));
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const ids = await deviceIds(client, rows, rows[0]!.receivedAt);
      const stored = await insertPositions(client, rows, order, ids);
      const marks = this.marksOf(rows, order, ids, stored);
      await insertMarks(client, marks);
      await client.query("COMMIT");
      this.remember(marks);
      const inserted = new Uint8Array(rows.length);
      for (let i = 0; i < rows.length; i++) inserted[i] = stored[i] ? 1 : 0;
      return inserted;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {}

  /**
   * The hours to mark for the stored plausible fixes (and the hour after each: its first vertex's
   * gap flag depends on the fix before it), in the same transaction, so levels can never be stale
   * and unmarked; less those this node marked already this hour.
   */
  private marksOf(
    rows: readonly NewPosition[],
    order: readonly number[],
    ids: Map<string, number>,
    stored: readonly boolean[],
  ): [device: number, chunk: number][] {
    const hour = chunkOf(this.now());
    if (hour !== this.markedHour) {
      this.marked.clear();
      this.markedHour = hour;
    }
    const marks = new Map<string, [number, number]>();
    for (const index of order) {
      const row = rows[index]!;
      if (!stored[index] || row.flag !== null) continue;
      const device = ids.get(row.deviceId)!;
      const chunk = chunkOf(row.position.ts);
      for (const c of [chunk, chunk + 1]) {
        const key = `${device}:${c}`;
        if (!this.marked.has(key)) marks.set(key, [device, c]);
      }
    }
    return [...marks.values()];
  }

  /** After the commit: what can be trusted to stay marked until the hour ends. */
  private remember(marks: readonly [number, number][]): void {
    for (const [device, chunk] of marks) {
      if (chunk >= this.markedHour) this.marked.add(`${device}:${chunk}`);
    }
  }
}

function compareRows(a: NewPosition, b: NewPosition): number {
  if (a.deviceId !== b.deviceId) return a.deviceId < b.deviceId ? -1 : 1;
  return a.position.ts - b.position.ts;
}

/**
 * Ids of every device named, creating those that do not exist: a look-up first, an insert only for
 * what it missed (new devices, or one another node removed meanwhile).
 */
async function deviceIds(
  client: pg.PoolClient,
  rows: readonly NewPosition[],
  now: number,
): Promise<Map<string, number>> {
  const uids = [...new Set(rows.map((r) => r.deviceId))].sort();
  const lookUp = async (names: string[]) =>
    (
      await client.query<{ id: number; uid: string }>({
        name: "locus-device-ids",
        text: "SELECT id, uid FROM devices WHERE uid = ANY($1::text[])",
        values: [names],
      })
    ).rows;
  const ids = new Map((await lookUp(uids)).map((d) => [d.uid, d.id]));
  if (ids.size === uids.length) return ids;
  const missing = uids.filter((uid) => !ids.has(uid));
  await client.query(
    `INSERT INTO devices (uid, created_at) SELECT unnest($1::text[]), $2
     ON CONFLICT (uid) DO NOTHING`,
    [missing, now],
  );
  for (const d of await lookUp(missing)) ids.set(d.uid, d.id);
  return ids;
}

/** Insert in (device, ts) order; per row (original index), true when stored now. */
async function insertPositions(
  client: pg.PoolClient,
  rows: readonly NewPosition[],
  order: readonly number[],
  ids: Map<string, number>,
): Promise<boolean[]> {
  const columns: unknown[][] = Array.from({ length: 12 }, () => new Array(rows.length));
  order.forEach((index, i) => {
    const { deviceId, position: p, receivedAt, flag } = rows[index]!;
    const values = [
      ids.get(deviceId),
      p.ts,
      p.lat,
      p.lon,
      p.speed ?? null,
      p.course ?? null,
      p.alt ?? null,
      p.accuracy ?? null,
      p.battery ?? null,
      p.attributes === undefined ? null : JSON.stringify(p.attributes),
      receivedAt,
      flag,
    ];
    for (let c = 0; c < values.length; c++) columns[c]![i] = values[c];
  });
  const result = await client.query<{ device: number; ts: number }>({
    name: "locus-insert-positions",
    text: `INSERT INTO positions
             (device, ts, lat, lon, speed, course, alt, accuracy, battery, attributes, received_at, flag)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[],
             $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::json[], $11::bigint[], $12::text[])
           ON CONFLICT DO NOTHING RETURNING device, ts`,
    values: columns,
  });
  // A key repeated within the batch is stored once: the first of its rows counts as stored.
  const fresh = new Set(result.rows.map((r) => `${r.device}:${r.ts}`));
  const stored = new Array<boolean>(rows.length).fill(false);
  for (const index of order) {
    const key = `${ids.get(rows[index]!.deviceId)}:${rows[index]!.position.ts}`;
    if (fresh.delete(key)) stored[index] = true;
  }
  return stored;
}

async function insertMarks(client: pg.PoolClient, marks: [number, number][]): Promise<void> {
  if (marks.length === 0) return;
  marks.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  await client.query({
    name: "locus-mark-hours",
    text: `INSERT INTO track_dirty (device, chunk) SELECT * FROM unnest($1::bigint[], $2::bigint[])
           ON CONFLICT DO NOTHING`,
    values: [marks.map((p) => p[0]), marks.map((p) => p[1])],
  });
}
