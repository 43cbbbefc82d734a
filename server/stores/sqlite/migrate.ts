import type { Logger } from "../../logger.ts";
import type { Db } from "./database.ts";
import { publishFile, removeQuietly } from "./files.ts";
import { MIGRATIONS } from "./migrations.ts";

export interface MigrateOptions {
  /** The database's file (":memory:" has none to back up). */
  file: string;
  logger?: Logger;
  /** The migrations to apply; only tests pass their own (one that fails, a prefix). */
  migrations?: readonly string[];
  /** Clock for the backup's name. */
  now?: () => Date;
}

export interface MigrateResult {
  from: number;
  to: number;
  /** The backup written before migrating, or null (nothing to migrate, or a new database). */
  backup: string | null;
}

/**
 * Bring the schema up to date. A database that already holds data (version > 0) is first copied
 * beside itself, `locus.db.before-v7-20250101T120000Z.bak`: a migration never starts without a
 * fresh backup. Then every pending migration runs in ONE transaction, so a failure anywhere rolls
 * the file back to the version (and data) it had, and a server never starts on a half-migrated
 * schema. The transaction is IMMEDIATE and the version is read again inside it: of two processes
 * starting together on an old file, the second finds the work done.
 */
export function migrate(db: Db, options: MigrateOptions): MigrateResult {
  const { file, logger, migrations = MIGRATIONS, now = () => new Date() } = options;
  const target = migrations.length;
  const from = db.pragma("user_version", { simple: true }) as number;
  if (from > target) {
    throw new Error(
      `database schema version ${from} is newer than this Locus (${target}); upgrade Locus`,
    );
  }
  if (from === target) return { from, to: target, backup: null };
  let backup: string | null = null;
  if (from > 0 && file !== ":memory:") {
    backup = backupBeforeMigration(db, `${file}.before-v${target}-${stamp(now())}.bak`);
    logger?.info({ backup, from, to: target }, "schema migration: backup written");
  }
  db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    for (let version = current; version < target; version++) {
      db.exec(migrations[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
  logger?.info({ from, to: target }, "schema migrated");
  return { from, to: target, backup };
}

/**
 * VACUUM INTO: a consistent, compact copy in one statement on the connection we already have
 * (the online backup API would make openDatabase asynchronous). Written under a temp name and
 * renamed once synced, like every backup: a half-written one never looks finished.
 */
function backupBeforeMigration(db: Db, path: string): string {
  const temp = `${path}.partial`;
  try {
    db.prepare("VACUUM INTO ?").run(temp);
    publishFile(temp, path);
  } catch (err) {
    removeQuietly(temp);
    throw new Error(
      `schema migration: not started, the backup ${path} could not be written: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return path;
}

/** 2025-01-01T12:00:00.000Z → 20250101T120000Z: sorts by time, valid in every file system. */
const stamp = (date: Date) => date.toISOString().replace(/[-:]|\.\d+/g, "");
