import type { CopyOptions, CopyProgress, CopyResult } from "../../stores/copy-store.ts";
import type { MigrateOutcome } from "../../stores/open.ts";
import { CliError } from "./usage.ts";

/**
 * The store mechanics these commands drive. The CLI's composition (locus.ts) passes the stores'
 * own: a transport does not open a store itself.
 */
export interface StoreTools {
  migrate(db: string): Promise<MigrateOutcome>;
  copy(options: CopyOptions): Promise<CopyResult>;
  isPostgresUrl(db: string): boolean;
}

export interface StoreCli {
  /** --db, else LOCUS_DB, else the default. */
  db: string;
  from?: string;
  to?: string;
  json: boolean;
  print(value: unknown, text: string): void;
}

/** `migrate`: the pending migrations of --db, applied now rather than at the next start. */
export async function migrateCommand(cli: StoreCli, args: string[], tools: StoreTools) {
  if (args.length !== 0)
    throw new CliError("migrate takes no arguments (name the store with --db)");
  const outcome = await tools.migrate(cli.db);
  const done =
    outcome.from === outcome.to
      ? `${outcome.db} is at schema version ${outcome.to}: nothing to migrate`
      : `${outcome.db} migrated from schema version ${outcome.from} to ${outcome.to}`;
  cli.print(outcome, outcome.backup ? `${done} (backup: ${outcome.backup})` : done);
}

/** `copy-store --from FILE --to URL`: move a SQLite installation into PostgreSQL. */
export async function copyStoreCommand(cli: StoreCli, args: string[], tools: StoreTools) {
  if (args.length !== 0) throw new CliError("copy-store takes no arguments: --from FILE --to URL");
  const from = cli.from ?? cli.db;
  if (tools.isPostgresUrl(from)) {
    throw new CliError("copy-store: --from must be a SQLite file (the installation to move)");
  }
  if (!cli.to || !tools.isPostgresUrl(cli.to)) {
    throw new CliError("copy-store: --to must be a postgres:// URL (the database to fill)");
  }
  const result = await tools.copy({
    from,
    to: cli.to,
    onProgress: cli.json ? undefined : progressBar(),
  });
  const tables = Object.entries(result.tables)
    .map(([table, rows]) => `  ${table.padEnd(14)} ${rows}`)
    .join("\n");
  cli.print(
    result,
    `${result.resumed ? "resumed copy" : "copied"} ${result.from} to ${result.to}: ` +
      `${result.copied} rows written, every table's count checked:\n${tables}`,
  );
}

/**
 * Rows copied of the total, rows per second and time left: rewritten in place on a terminal,
 * a line every 10 % otherwise.
 */
export function progressBar(out: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let lastDecile = -1;
  let lastDraw = 0;
  return ({ table, copied, total }: CopyProgress) => {
    const share = total === 0 ? 1 : copied / total;
    const now = Date.now();
    const done = copied >= total;
    if (out.isTTY && !done && now - lastDraw < 100) return;
    lastDraw = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    const rate = copied / seconds;
    const eta = rate > 0 ? Math.ceil((total - copied) / rate) : 0;
    const line =
      `${(share * 100).toFixed(0).padStart(3)}% ${copied} of ${total} rows, ` +
      `${Math.round(rate)} rows/s, ${done ? "done" : `ETA ${clock(eta)}`} (${table})`;
    if (out.isTTY) {
      const width = 30;
      const filled = Math.round(share * width);
      out.write(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${line}\x1b[K`);
      if (done) out.write("\n");
    } else if (Math.floor(share * 10) > lastDecile) {
      lastDecile = Math.floor(share * 10);
      out.write(`copying ${line}\n`);
    }
  };
}

const clock = (seconds: number) =>
  `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
