import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "../../logger.ts";
import { migrate } from "./migrate.ts";

export type Db = Database.Database;

export const WAL_AUTOCHECKPOINT_PAGES = 30_000;

/**
 * Open (creating if needed) the SQLite file, set its pragmas and bring its schema up to date
 * (unless `migrate` is false: a second connection of a process whose first one already did).
 */
export function openDatabase(
  file: string,
  options: { durability?: "normal" | "full"; migrate?: boolean; logger?: Logger } = {},
): Db {
  const { durability = "normal", migrate: upgrade = true, logger } = options;
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // WAL: dashboards' history reads never block ingest, and a commit is one sequential append.
  db.pragma("journal_mode = WAL");
  // NORMAL under WAL: a committed transaction survives a process crash (SIGKILL, OOM); a power
  // loss or kernel crash can take the last commits. FULL fsyncs the WAL on every commit, so an
  // acknowledged position survives those too; with group commit it costs little (see README).
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  // Another process (the CLI, a backup) may hold the write lock briefly: wait rather than fail.
  db.pragma("busy_timeout = 5000");
  // With many devices each commit dirties about one page per device, and the page at the tail of
  // each device's history is rewritten many times before it fills: a checkpoint copies it once
  // however often it is in the WAL. Every 1,000 pages (the default) checkpoints run after almost
  // every commit; 10,000 measured ~2x ingest, 30,000 another +20 % of insert throughput (120 MB of
  // WAL at most). See bench/RESULTS.md. In the server a checkpoint thread copies pages in the
  // background (Checkpointer), so the commit that crosses this line only resets the WAL.
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  if (upgrade) {
    try {
      migrate(db, { file, logger });
    } catch (err) {
      db.close();
      throw err;
    }
  }
  return db;
}
