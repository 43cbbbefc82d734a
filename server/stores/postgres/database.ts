import pg from "pg";
import { PG_MIGRATIONS } from "./migrations.ts";

/**
 * BIGINT columns (ids, epoch ms, counts) as numbers, like SQLite's: every value Locus stores fits
 * in 2^53, and strings would leak into every comparison. Per pool, not pg's global table.
 */
const getTypeParser = ((oid: number, format?: "text" | "binary") =>
  oid === pg.types.builtins.INT8
    ? Number
    : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser;

/** Where the schema version lives: one row, so an empty database and ours are told apart. */
const VERSION_TABLE = "locus_schema";
/** Any constant: start-ups of several nodes take turns at migrating. */
const MIGRATION_LOCK = 0x10c05;

/**
 * Connect to PostgreSQL and check it answers, failing fast with a message that names the setting
 * (an unreachable host, a wrong password and a missing database all end here).
 */
export async function openPool(url: string, options: { max?: number } = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    // A server that does not answer must not hold a report for ever: its devices resend.
    connectionTimeoutMillis: 5000,
    types: { getTypeParser },
  });
  // An idle client that loses its server (a restart) must not crash the process: the next query
  // takes a new connection.
  pool.on("error", () => {});
  // Nor may a checked-out one, between two queries of a transaction: pg-pool listens only to idle
  // clients, and a client's unheard "error" is an uncaught exception. The query under way, or the
  // next one, fails with the reason; release() then drops the broken client.
  pool.on("connect", (client) => client.on("error", () => {}));
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`--db (LOCUS_DB): cannot use ${redact(url)}: ${reason}`, {
      cause: err,
    });
  }
  return pool;
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparsable URL)";
  }
}

/** The schema version a database is at (0: none of ours yet). */
export async function schemaVersion(pool: pg.Pool): Promise<number> {
  const exists = await pool.query("SELECT to_regclass($1) AS t", [VERSION_TABLE]);
  if (exists.rows[0].t === null) return 0;
  const { rows } = await pool.query(`SELECT version FROM ${VERSION_TABLE}`);
  return Number(rows[0]?.version ?? 0);
}

/**
 * Bring the schema up to date: each migration in its own transaction (a failed one leaves the
 * previous version intact), under an advisory lock so that nodes starting together migrate once.
 * Refuses a database newer than this Locus. Resolves with the versions before and after.
 */
export async function migrate(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL)`,
    );
    await client.query(
      `INSERT INTO ${VERSION_TABLE} (version) VALUES (0) ON CONFLICT (one) DO NOTHING`,
    );
    const { rows } = await client.query(`SELECT version FROM ${VERSION_TABLE}`);
    const from = Number(rows[0].version);
    if (from > PG_MIGRATIONS.length) {
      throw new Error(
        `database schema version ${from} is newer than this Locus (${PG_MIGRATIONS.length}); upgrade Locus`,
      );
    }
    for (let version = from; version < PG_MIGRATIONS.length; version++) {
      await client.query("BEGIN");
      try {
        await client.query(PG_MIGRATIONS[version]!);
        await client.query(`UPDATE ${VERSION_TABLE} SET version = $1`, [version + 1]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      }
    }
    return { from, to: PG_MIGRATIONS.length };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** Run `work` in one transaction on one pooled connection: committed if it resolves. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Rows as arrays in column order (cheaper than objects, and the shape the ports use). */
export async function arrayRows<R extends unknown[]>(
  db: pg.Pool | pg.PoolClient,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  return (await db.query<R>({ text, values, rowMode: "array" })).rows;
}
