import type { Logger } from "../logger.ts";
import type { Stores } from "./ports.ts";
import { openPostgresStores } from "./postgres/index.ts";
import { openSqliteStores } from "./sqlite/index.ts";

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
