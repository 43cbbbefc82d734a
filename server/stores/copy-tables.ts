import type pg from "pg";
import type { Db } from "./sqlite/database.ts";

/**
 * Every Locus table, in the order `copy-store` copies them: people and devices first (they say
 * which installation the target holds), positions last (the bulk, and the only table resumed).
 * A table missing here, or present here but not in a schema, fails the copy before it starts.
 */
export const COPIED_TABLES = [
  "users",
  "groups",
  "devices",
  "user_devices",
  "user_groups",
  "device_groups",
  "sessions",
  "api_tokens",
  "geofences",
  "rule_state",
  "events",
  "webhooks",
  "rules",
  "push_subscriptions",
  "server_keys",
  "fanout_cursor",
  "outbox",
  "track_meta",
  "track_dirty",
  "track_chunks",
  "track_levels",
  "positions",
] as const;

export interface CopiedColumn {
  name: string;
  /** PostgreSQL's type name (information_schema), which is also its array cast: `bigint[]`. */
  type: string;
  /** Its value from SQLite as PostgreSQL takes it (0/1 → false/true; JSON text stays text). */
  convert: (value: unknown) => unknown;
}

/** One table as both schemas agree on it. */
export interface CopiedTable {
  name: string;
  columns: CopiedColumn[];
  /** Primary key columns, in key order: the order pages are read in. */
  key: string[];
  /** The column PostgreSQL numbers itself (GENERATED ALWAYS AS IDENTITY), if any. */
  identity: string | null;
}

const asIs = (value: unknown) => value;
const asBoolean = (value: unknown) => (value === null ? null : value !== 0);

/**
 * A table's shape read from PostgreSQL's catalog (types, identity, key), checked column by column
 * against SQLite's: the two schemas mirror each other, and a migration added to one but not the
 * other must stop the copy rather than drop a column silently.
 */
export async function describeTable(pool: pg.Pool, source: Db, name: string): Promise<CopiedTable> {
  const { rows } = await pool.query<{ name: string; type: string; identity: string }>(
    `SELECT column_name AS name, data_type AS type, is_identity AS identity
     FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [name],
  );
  const { rows: key } = await pool.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = $1::regclass AND i.indisprimary
     ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [name],
  );
  const sqlite = (source.pragma(`table_info(${name})`) as { name: string }[]).map((c) => c.name);
  const postgres = rows.map((c) => c.name);
  if ([...sqlite].sort().join() !== [...postgres].sort().join()) {
    throw new Error(
      `table ${name} differs between the schemas: SQLite has (${sqlite.join(", ")}), ` +
        `PostgreSQL (${postgres.join(", ")}); this Locus cannot copy it`,
    );
  }
  return {
    name,
    columns: rows.map((c) => ({
      name: c.name,
      type: c.type,
      convert: c.type === "boolean" ? asBoolean : asIs,
    })),
    key: key.map((k) => k.name),
    identity: rows.find((c) => c.identity === "YES")?.name ?? null,
  };
}

/** The tables of a SQLite file that COPIED_TABLES does not name (its own bookkeeping aside). */
export function unknownTables(source: Db): string[] {
  const known = new Set<string>(COPIED_TABLES);
  return (
    source
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[]
  ).filter((name) => !known.has(name));
}

/**
 * The multi-row insert of a page: one array per column through `unnest`, so the statement text is
 * the same whatever the page size and stays clear of the 65,535-parameter limit (as the position
 * writer does). Ids are kept: OVERRIDING SYSTEM VALUE lets them past GENERATED ALWAYS.
 */
export function insertStatement(table: CopiedTable): string {
  const names = table.columns.map((c) => c.name).join(", ");
  const arrays = table.columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ");
  const overriding = table.identity ? " OVERRIDING SYSTEM VALUE" : "";
  return `INSERT INTO ${table.name} (${names})${overriding}
          SELECT * FROM unnest(${arrays}) ON CONFLICT DO NOTHING`;
}

/** SQLite rows (arrays in the table's column order) as one converted array per column. */
export function toColumns(table: CopiedTable, rows: unknown[][]): unknown[][] {
  return table.columns.map((column, c) => rows.map((row) => column.convert(row[c])));
}
