import type pg from "pg";
import { checkSameInstallation, CopyStoreError, openSource, openTarget } from "./copy-endpoints.ts";
import {
  COPIED_TABLES,
  describeTable,
  insertStatement,
  toColumns,
  type CopiedTable,
} from "./copy-tables.ts";
import { redact } from "./postgres/database.ts";
import { Partitions } from "./postgres/partitions.ts";
import type { Db } from "./sqlite/database.ts";

export interface CopyProgress {
  table: string;
  /** Rows written by this run so far, all tables together. */
  copied: number;
  /** Rows this run has to write (a resumed run: only what the target still lacks). */
  total: number;
}

export interface CopyOptions {
  /** The SQLite file (--from). */
  from: string;
  /** The postgres:// URL (--to). */
  to: string;
  /** Rows per page read and per insert. */
  pageSize?: number;
  onProgress?: (progress: CopyProgress) => void;
  /** Stops the copy between two pages (what is committed stays: run it again to resume). */
  signal?: AbortSignal;
}

export interface CopyResult {
  from: string;
  /** The target URL without its password. */
  to: string;
  /** True when the target already held part of this installation (a resumed copy). */
  resumed: boolean;
  /** Rows written by this run. */
  copied: number;
  /** Rows per table, equal in source and target. */
  tables: Record<string, number>;
}

const DEFAULT_PAGE = 5_000;

/**
 * Copy a SQLite installation into PostgreSQL, every table, ids kept, then check the counts.
 *
 * The source is only read, inside one read transaction: under WAL a running server keeps writing,
 * and the copy is the one snapshot that transaction sees (as `locus backup` does). The target is
 * migrated first. Small tables (people, devices, grants, sessions, levels…) are replaced whole,
 * each in one transaction, on every run, so a run after the source changed brings them up to
 * date. Positions are the bulk: read per device in ts order in pages and written in batches that
 * commit one by one, so a killed copy run again starts each device after the newest fix the target
 * already holds of it, rereading nothing it copied.
 */
export async function copyStore(options: CopyOptions): Promise<CopyResult> {
  const { from, to, pageSize = DEFAULT_PAGE, onProgress = () => {}, signal } = options;
  const source = openSource(from);
  let pool: pg.Pool | null = null;
  try {
    pool = await openTarget(to);
    source.exec("BEGIN");
    // The first read opens the transaction's snapshot (a deferred BEGIN takes none by itself).
    source.prepare("SELECT count(*) FROM sqlite_schema").get();
    const tables = [];
    for (const name of COPIED_TABLES) tables.push(await describeTable(pool, source, name));
    const resumed = await checkSameInstallation(source, pool);

    const counts = Object.fromEntries(tables.map((t) => [t.name, countRows(source, t.name)]));
    const positions = tables.find((t) => t.name === "positions")!;
    const newest = await newestCopied(source, pool);
    let total = remainingPositions(source, newest);
    for (const table of tables) if (table !== positions) total += counts[table.name]!;

    let copied = 0;
    const advance = (table: string, rows: number) => {
      copied += rows;
      onProgress({ table, copied, total });
    };
    onProgress({ table: tables[0]!.name, copied, total });
    for (const table of tables) {
      if (table === positions) continue;
      await replaceTable(source, pool, table, pageSize, signal, advance);
    }
    await copyPositions(source, pool, positions, newest, pageSize, signal, advance);
    await restartIdentities(source, pool, tables);
    source.exec("COMMIT");
    await verifyCounts(pool, counts);
    // Fresh planner statistics: right after a bulk load they would otherwise wait for autovacuum.
    await pool.query("ANALYZE");
    return { from, to: redact(to), resumed, copied, tables: counts };
  } finally {
    source.close();
    await pool?.end();
  }
}

const countRows = (db: Db, table: string) =>
  db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

/** Each source device with positions, and the newest fix time the target holds of it (or null). */
async function newestCopied(source: Db, pool: pg.Pool): Promise<Map<number, number | null>> {
  const next = source
    .prepare("SELECT device FROM positions WHERE device > ? ORDER BY device LIMIT 1")
    .pluck();
  const newest = new Map<number, number | null>();
  for (let device = next.get(-1) as number | undefined; device !== undefined;) {
    const { rows } = await pool.query("SELECT max(ts) AS ts FROM positions WHERE device = $1", [
      device,
    ]);
    newest.set(device, rows[0].ts === null ? null : Number(rows[0].ts));
    device = next.get(device) as number | undefined;
  }
  return newest;
}

function remainingPositions(source: Db, newest: Map<number, number | null>): number {
  const after = source
    .prepare("SELECT count(*) FROM positions WHERE device = ? AND ts > ?")
    .pluck();
  let rows = 0;
  for (const [device, ts] of newest)
    rows += after.get(device, ts ?? Number.MIN_SAFE_INTEGER) as number;
  return rows;
}

type Advance = (table: string, rows: number) => void;

/** Keyset pages of a table in key order: memory holds one page whatever the table's size. */
function* pages(source: Db, table: CopiedTable, pageSize: number): Generator<unknown[][]> {
  const names = table.columns.map((c) => c.name).join(", ");
  const key = table.key.join(", ");
  const marks = table.key.map(() => "?").join(", ");
  const first = source.prepare(`SELECT ${names} FROM ${table.name} ORDER BY ${key} LIMIT ?`).raw();
  const after = source
    .prepare(
      `SELECT ${names} FROM ${table.name} WHERE (${key}) > (${marks}) ORDER BY ${key} LIMIT ?`,
    )
    .raw();
  const keyAt = table.key.map((k) => table.columns.findIndex((c) => c.name === k));
  let page = first.all(pageSize) as unknown[][];
  while (page.length > 0) {
    yield page;
    if (page.length < pageSize) return;
    const last = page[page.length - 1]!;
    page = after.all(...keyAt.map((i) => last[i]), pageSize) as unknown[][];
  }
}

/** Replace a (small) table whole in one transaction: a rerun brings changed rows up to date. */
async function replaceTable(
  source: Db,
  pool: pg.Pool,
  table: CopiedTable,
  pageSize: number,
  signal: AbortSignal | undefined,
  advance: Advance,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`DELETE FROM ${table.name}`);
    const text = insertStatement(table);
    for (const page of pages(source, table, pageSize)) {
      signal?.throwIfAborted();
      await client.query({ text, values: toColumns(table, page) });
      advance(table.name, page.length);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Positions device by device, each after the newest fix the target holds of it, gathered into
 * batches of `pageSize` rows across devices; each batch commits on its own, its months'
 * partitions created first. ON CONFLICT DO NOTHING makes a batch sent twice harmless.
 */
async function copyPositions(
  source: Db,
  pool: pg.Pool,
  table: CopiedTable,
  newest: Map<number, number | null>,
  pageSize: number,
  signal: AbortSignal | undefined,
  advance: Advance,
): Promise<void> {
  const names = table.columns.map((c) => c.name).join(", ");
  const read = source
    .prepare(`SELECT ${names} FROM positions WHERE device = ? AND ts > ? ORDER BY ts LIMIT ?`)
    .raw();
  const tsAt = table.columns.findIndex((c) => c.name === "ts");
  const partitions = new Partitions(pool);
  await partitions.load();
  const text = insertStatement(table);
  let batch: unknown[][] = [];
  const flush = async () => {
    signal?.throwIfAborted();
    await partitions.ensureFor(batch.map((row) => row[tsAt] as number));
    await pool.query({ text, values: toColumns(table, batch) });
    advance("positions", batch.length);
    batch = [];
  };
  for (const [device, copiedUpTo] of newest) {
    let after = copiedUpTo ?? Number.MIN_SAFE_INTEGER;
    for (;;) {
      const wanted = pageSize - batch.length;
      const page = read.all(device, after, wanted) as unknown[][];
      batch.push(...page);
      if (batch.length >= pageSize) await flush();
      if (page.length < wanted) break;
      after = page[page.length - 1]![tsAt] as number;
    }
  }
  if (batch.length > 0) await flush();
}

/**
 * Move each identity past the ids copied, so the next device, user or group PostgreSQL numbers
 * gets a fresh id. For devices, past SQLite's AUTOINCREMENT high-water mark too: the id of a
 * removed device is never given to another one (migration 7), on either store.
 */
async function restartIdentities(source: Db, pool: pg.Pool, tables: CopiedTable[]) {
  const sequence = source.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?").pluck();
  for (const table of tables) {
    if (!table.identity) continue;
    const max = source.prepare(`SELECT max(${table.identity}) FROM ${table.name}`).pluck().get();
    const used = Math.max(Number(max ?? 0), Number(sequence.get(table.name) ?? 0));
    await pool.query("SELECT setval(pg_get_serial_sequence($1, $2), $3, false)", [
      table.name,
      table.identity,
      used + 1,
    ]);
  }
}

/** Every table holds in the target what it holds in the source's snapshot, else a clear error. */
async function verifyCounts(pool: pg.Pool, counts: Record<string, number>): Promise<void> {
  const differ: string[] = [];
  for (const [table, rows] of Object.entries(counts)) {
    const { rows: found } = await pool.query(`SELECT count(*) AS n FROM ${table}`);
    const target = Number(found[0].n);
    if (target !== rows) differ.push(`${table} (--from ${rows}, --to ${target})`);
  }
  if (differ.length > 0) {
    throw new CopyStoreError(
      `copy-store: the copy does not match its source: ${differ.join(", ")}. ` +
        "Rows the target gained from elsewhere, or fixes that reached the source out of order " +
        "after an earlier run, make counts differ; copy again into an empty database",
    );
  }
}
