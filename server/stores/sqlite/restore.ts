import { copyFileSync, existsSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { BackupError, checkDatabase, type DatabaseSummary } from "./backup.ts";
import { publishFile, removeQuietly, SIDE_FILES, tempBeside } from "./files.ts";

/**
 * Put the backup `file` in place as the database `target`. The backup is copied beside the
 * target under a temp name and the *copy* is checked (integrity_check, a Locus schema no newer
 * than this Locus), synced and renamed over the target: a crash leaves the old database or the
 * restored one, never a mix. An existing target is replaced only with `force`, and never while
 * anything has it open (see assertNotInUse).
 */
export function restoreDatabase(
  file: string,
  target: string,
  options: { force: boolean },
): DatabaseSummary {
  if (!existsSync(file)) throw new BackupError(`restore: FILE ${file} does not exist`);
  if (existsSync(`${file}-wal`)) {
    // Its newest commits may be in that WAL, which a copy of the file alone would lose.
    throw new BackupError(
      `restore: FILE ${file} has a -wal file beside it: it is a live database (or one not closed cleanly), not a backup; take one with "locus backup"`,
    );
  }
  if (!existsSync(dirname(resolve(target)))) {
    throw new BackupError(`restore: the folder of --db ${target} does not exist`);
  }
  const targetExists = existsSync(target);
  if (targetExists && realpathSync(target) === realpathSync(file)) {
    throw new BackupError(`restore: FILE ${file} is --db itself`);
  }
  if (targetExists && !options.force) {
    throw new BackupError(
      `restore: --db ${target} already exists; pass --force to replace it (never while a server uses it)`,
    );
  }

  const temp = tempBeside(target, "restore");
  try {
    copyFileSync(file, temp);
    const copy = new Database(temp, { fileMustExist: true });
    let held;
    try {
      held = checkDatabase(copy, `restore: FILE ${file}`);
    } finally {
      copy.close();
    }
    if (targetExists) assertNotInUse(target);
    // After assertNotInUse the target's own WAL is folded into it and gone; anything left beside
    // it is stale, and SQLite would replay it into the restored file.
    for (const suffix of SIDE_FILES) removeQuietly(`${target}${suffix}`);
    publishFile(temp, target);
    return { file: target, ...held, bytes: statSync(target).size };
  } finally {
    removeQuietly(temp);
  }
}

/**
 * Refuse a database that a server (or another CLI) has open. Every Locus connection keeps the
 * file in WAL mode; SQLite lets a connection leave WAL mode only when it is the *only* one with
 * the file open, so asking for `journal_mode = DELETE` without waiting is an exact test: it fails
 * with SQLITE_BUSY while any other process or thread is connected, idle or not, and succeeds on a
 * file whose server stopped or crashed (the switch first recovers and checkpoints its WAL). A
 * "-wal file exists" test would refuse after every crash; a PID file would go stale. What remains
 * is a server starting in the moment between this test and the rename: it would keep running on
 * the old, unlinked file. Restore is for a stopped server, and this catches the forgotten one.
 */
function assertNotInUse(target: string): void {
  let db;
  try {
    db = new Database(target, { fileMustExist: true });
    db.pragma("busy_timeout = 0");
    db.pragma("journal_mode = DELETE");
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
      throw new BackupError(
        `restore: --db ${target} is in use (a running Locus server or command has it open); stop it first`,
      );
    }
    // Not a database at all (or unreadable as one): nothing can be using it as one; --force
    // replaces it.
  } finally {
    db?.close();
  }
}
