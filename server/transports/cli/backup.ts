import { progressPrinter } from "./import-file.ts";
import { CliError } from "./usage.ts";

/** What a database file holds (the store's DatabaseSummary). */
export interface DatabaseSummary {
  file: string;
  schemaVersion: number;
  devices: number;
  positions: number;
  bytes: number;
}

/**
 * The storage mechanics these commands drive. The CLI's composition (locus.ts) passes the SQLite
 * store's: a transport does not open a store itself.
 */
export interface BackupStorage {
  backup(
    source: string,
    dest: string,
    onProgress: (copied: number, total: number) => void,
  ): Promise<DatabaseSummary>;
  restore(file: string, target: string, options: { force: boolean }): DatabaseSummary;
}

export interface BackupCli {
  /** The database file (--db, else LOCUS_DB, else the default). */
  db: string;
  force: boolean;
  print(value: unknown, text: string): void;
}

/** `backup FILE`: a consistent copy of the database, taken while a server keeps writing. */
export async function backupCommand(
  cli: BackupCli,
  args: string[],
  storage: BackupStorage,
): Promise<void> {
  if (args.length !== 1) throw new CliError("backup needs one FILE to write");
  const summary = await storage.backup(cli.db, args[0]!, progressPrinter(`backing up ${cli.db}`));
  cli.print(summary, `backup written to ${summary.file}: ${describe(summary)}`);
}

/** `restore FILE [--force]`: put a checked backup in place of the (stopped) server's database. */
export function restoreCommand(cli: BackupCli, args: string[], storage: BackupStorage): void {
  if (args.length !== 1) throw new CliError("restore needs one backup FILE to read");
  const summary = storage.restore(args[0]!, cli.db, { force: cli.force });
  // An older schema version is fine: the server migrates it at start (after its own backup).
  cli.print(summary, `${args[0]} restored to ${summary.file}: ${describe(summary)}`);
}

const describe = (s: DatabaseSummary) =>
  `${s.devices} devices, ${s.positions} positions, ${(s.bytes / 1024 / 1024).toFixed(1)} MB, ` +
  `schema version ${s.schemaVersion}, integrity_check ok`;
