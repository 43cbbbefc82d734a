import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Db } from "./database.ts";
import { publishFile, removeQuietly, tempBeside } from "./files.ts";
import { MIGRATIONS } from "./migrations.ts";

/** A backup or restore refused or failed; the message names the argument and the rule. */
export class BackupError extends Error {}

/** What a database file holds, as `locus backup` and `locus restore` print it. */
export interface DatabaseSummary {
  file: string;
  schemaVersion: number;
  devices: number;
  positions: number;
  bytes: number;
}

/** Pages copied per step (400 kB at the default page size): the progress line moves smoothly. */
const PAGES_PER_STEP = 100;

/**
 * Copy the database at `source` to `dest` while a server may be writing to it, without stopping
 * it. The copy is SQLite's online backup, taken on a connection of our own and *inside one read
 * transaction*: under WAL a reader never blocks the writer (positions keep being committed and
 * acknowledged), and the whole copy is the one snapshot that transaction sees, so every commit
 * before it started is in the backup and none after. Without that transaction each backup step
 * reads a fresh snapshot and SQLite restarts the copy whenever another connection has committed
 * in between: against a streaming fleet it never finishes (measured: 1,500 restarts in 8 s on a
 * 40 MB file; with the transaction, 0.2 s). Meanwhile the checkpointer cannot copy WAL frames
 * past our snapshot, so the WAL grows for as long as the backup runs, and shrinks after.
 *
 * The copy is written under a temp name, switched to a single self-contained file (rollback
 * journal: no -wal beside it), checked, synced, and only then renamed to `dest`.
 */
export async function backupDatabase(
  source: string,
  dest: string,
  onProgress: (copiedBytes: number, totalBytes: number) => void = () => {},
): Promise<DatabaseSummary> {
  if (!existsSync(source)) throw new BackupError(`backup: --db ${source} does not exist`);
  if (!existsSync(dirname(resolve(dest)))) {
    throw new BackupError(`backup: the folder of FILE ${dest} does not exist`);
  }
  if (existsSync(dest) && realpathSync(dest) === realpathSync(source)) {
    throw new BackupError(`backup: FILE ${dest} is the database itself; name another file`);
  }
  const temp = tempBeside(dest, "backup");
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    db.exec("BEGIN");
    // The first read opens the transaction's snapshot (a deferred BEGIN takes none by itself).
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    db.prepare("SELECT count(*) FROM sqlite_schema").get();
    let total = 0;
    const progress = await db.backup(temp, {
      progress({ totalPages, remainingPages }) {
        total = totalPages;
        onProgress((totalPages - remainingPages) * pageSize, totalPages * pageSize);
        return PAGES_PER_STEP;
      },
    });
    total = progress.totalPages;
    onProgress(total * pageSize, total * pageSize);
    db.exec("COMMIT");
  } catch (err) {
    removeQuietly(temp);
    if ((err as { code?: string }).code?.startsWith("SQLITE_")) {
      throw new BackupError(`backup: --db ${source}: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  } finally {
    db.close();
  }
  try {
    const copy = new Database(temp, { fileMustExist: true });
    let held;
    try {
      copy.pragma("journal_mode = DELETE");
      held = checkDatabase(copy, `backup: the copy of ${source}`);
    } finally {
      copy.close();
    }
    publishFile(temp, dest);
    return { file: dest, ...held, bytes: statSync(dest).size };
  } catch (err) {
    removeQuietly(temp);
    throw err;
  }
}

/**
 * The checks a copy must pass before it is called a backup or put back: SQLite's own
 * integrity_check, a Locus schema, and a schema version this Locus knows (an older one is fine:
 * the server migrates it at start).
 */
export function checkDatabase(db: Db, subject: string): Omit<DatabaseSummary, "file" | "bytes"> {
  let integrity: string;
  try {
    const rows = db.pragma("integrity_check(20)", { simple: false }) as {
      integrity_check: string;
    }[];
    integrity = rows.map((r) => r.integrity_check).join("; ");
  } catch (err) {
    throw new BackupError(
      `${subject} cannot be read as a SQLite database: ${(err as Error).message}`,
    );
  }
  if (integrity !== "ok") {
    throw new BackupError(`${subject} is not a sound database: integrity_check says ${integrity}`);
  }
  const schemaVersion = db.pragma("user_version", { simple: true }) as number;
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN (?, ?)")
    .pluck()
    .all("devices", "positions");
  if (schemaVersion === 0 || tables.length < 2) {
    throw new BackupError(
      `${subject} is not a Locus database: schema version ${schemaVersion}, no devices and positions tables`,
    );
  }
  if (schemaVersion > MIGRATIONS.length) {
    throw new BackupError(
      `${subject} has schema version ${schemaVersion}, newer than this Locus (${MIGRATIONS.length}): upgrade Locus first`,
    );
  }
  const count = (table: string) =>
    db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return { schemaVersion, devices: count("devices"), positions: count("positions") };
}
