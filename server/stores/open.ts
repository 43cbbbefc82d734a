import { existsSync } from "node:fs";
import type { Logger } from "../logger.ts";
import type { Stores } from "./ports.ts";
import { migrate as migratePostgres, openPool, redact } from "./postgres/database.ts";
import { openPostgresStores } from "./postgres/index.ts";
import { openDatabase } from "./sqlite/database.ts";
import { openSqliteStores } from "./sqlite/index.ts";
import { migrate as migrateSqlite } from "./sqlite/migrate.ts";

export interface StoreSettings {
  /** A SQLite file (or ":memory:"), or a postgres:// URL. */
  db: string;
  durability: "normal" | "full";
  commitDelayMs: number;
  commitMaxRows: number;
}

/** `--db` names PostgreSQL when it is a URL of that scheme; anything else is a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * The database behind every port, as `--db` says. `worker`: write SQLite on a storage thread (the
 * server) or on the calling one (the CLI, short-lived).
 */
export function openStores(
  settings: StoreSettings,
  options: { logger: Logger; worker: boolean; now: () => number },
): Promise<Stores> {
  const { db, commitDelayMs, commitMaxRows } = settings;
  if (isPostgresUrl(db)) {
    return openPostgresStores(
      { url: db, commitDelayMs, commitMaxRows, now: options.now },
      options.logger,
    );
  }
  return Promise.resolve(
    openSqliteStores({ ...settings, file: db, worker: options.worker }, options.logger),
  );
}

export interface MigrateOutcome {
  /** The database, a URL without its password. */
  db: string;
  from: number;
  to: number;
  /** SQLite: the backup written before migrating, or null (nothing to do, or a new file). */
  backup: string | null;
}

/**
 * Apply the pending numbered migrations of the store `--db` names, as a start-up would, without
 * starting anything (`locus migrate`: migrate before rolling out new nodes). Fails fast, naming
 * `--db`, when the database is unreachable or newer than this Locus; a SQLite file must exist (a
 * mistyped path must not become a new empty database).
 */
export async function migrateStore(db: string, logger?: Logger): Promise<MigrateOutcome> {
  if (isPostgresUrl(db)) {
    const pool = await openPool(db, { max: 1 });
    try {
      return { db: redact(db), ...(await migratePostgres(pool)), backup: null };
    } catch (err) {
      throw new Error(`--db (LOCUS_DB): cannot use ${redact(db)}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      await pool.end();
    }
  }
  if (!existsSync(db)) {
    throw new Error(
      `--db (LOCUS_DB): ${db} does not exist; a server creates it at its first start`,
    );
  }
  try {
    const file = openDatabase(db, { migrate: false });
    try {
      return { db, ...migrateSqlite(file, { file: db, logger }) };
    } finally {
      file.close();
    }
  } catch (err) {
    throw new Error(`--db (LOCUS_DB): cannot use ${db}: ${(err as Error).message}`, { cause: err });
  }
}
