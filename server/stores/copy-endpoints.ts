import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import type pg from "pg";
import { unknownTables } from "./copy-tables.ts";
import { migrate, openPool, redact } from "./postgres/database.ts";
import type { Db } from "./sqlite/database.ts";
import { MIGRATIONS } from "./sqlite/migrations.ts";

/**
 * The two ends of `copy-store`, opened and checked before a row moves: a SQLite source of this
 * Locus's schema, a migrated PostgreSQL target, and the rule that they are the same installation.
 */

/** A copy refused or failed; the message names the argument and the rule. */
export class CopyStoreError extends Error {}

export function openSource(file: string): Db {
  if (!existsSync(file)) throw new CopyStoreError(`copy-store: --from ${file} does not exist`);
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
  } catch (err) {
    throw new CopyStoreError(`copy-store: --from ${file}: ${(err as Error).message}`);
  }
  try {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version !== MIGRATIONS.length) {
      throw new CopyStoreError(
        version > MIGRATIONS.length
          ? `copy-store: --from ${file} has schema version ${version}, newer than this Locus (${MIGRATIONS.length}): upgrade Locus`
          : `copy-store: --from ${file} has schema version ${version}, this Locus ${MIGRATIONS.length}: migrate it first (npm run locus -- migrate --db ${file})`,
      );
    }
    const unknown = unknownTables(db);
    if (unknown.length > 0) {
      throw new CopyStoreError(
        `copy-store: --from ${file} has tables this Locus does not copy: ${unknown.join(", ")}`,
      );
    }
  } catch (err) {
    db.close();
    if (err instanceof CopyStoreError) throw err;
    throw new CopyStoreError(`copy-store: --from ${file}: ${(err as Error).message}`);
  }
  return db;
}

export async function openTarget(url: string): Promise<pg.Pool> {
  let pool: pg.Pool;
  try {
    pool = await openPool(url, { max: 2 });
  } catch (err) {
    throw new CopyStoreError(
      `copy-store: --to ${redact(url)}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`,
    );
  }
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw new CopyStoreError(`copy-store: --to ${redact(url)}: ${(err as Error).message}`);
  }
  return pool;
}

/**
 * The rule that keeps a copy from mixing two installations: the target must hold no users and no
 * devices (a fresh database), or hold this source's first user (else first device) as the same
 * row: same id, name and creation time to the millisecond. That row is made at an installation's
 * first run, so only an earlier copy of this same source has it, and the run is a resume. A
 * database a Locus server has run on has its own first-run `admin`, and is refused.
 */
export async function checkSameInstallation(source: Db, pool: pg.Pool): Promise<boolean> {
  const target = await targetIdentity(pool);
  if (target === null) {
    const { rowCount } = await pool.query("SELECT 1 FROM positions LIMIT 1");
    if (rowCount === 0) return false;
    throw new CopyStoreError(
      "copy-store: --to already holds positions but no users or devices: another installation; copy into an empty database",
    );
  }
  const mine = sourceIdentity(source);
  if (target !== mine) {
    throw new CopyStoreError(
      `copy-store: --to already holds another installation (its ${target}; --from has ${mine ?? "none"}); ` +
        "copy into an empty database (a Locus server started on it makes its own admin)",
    );
  }
  return true;
}

function identity(kind: string, row: unknown[] | undefined): string | null {
  if (!row) return null;
  const [id, name, createdAt] = row as [number, string, number];
  return `${kind} ${id} "${name}" created ${new Date(createdAt).toISOString()}`;
}

const FIRST_USER = "SELECT id, name, created_at FROM users ORDER BY id LIMIT 1";
const FIRST_DEVICE = "SELECT id, uid, created_at FROM devices ORDER BY id LIMIT 1";

function sourceIdentity(db: Db): string | null {
  const first = (sql: string) => db.prepare(sql).raw().get() as unknown[] | undefined;
  return identity("user", first(FIRST_USER)) ?? identity("device", first(FIRST_DEVICE));
}

async function targetIdentity(pool: pg.Pool): Promise<string | null> {
  const first = async (sql: string) =>
    (await pool.query<unknown[]>({ text: sql, rowMode: "array" })).rows[0];
  return identity("user", await first(FIRST_USER)) ?? identity("device", await first(FIRST_DEVICE));
}
