import { parseArgs } from "node:util";
import { loadConfig } from "../../config.ts";
import { silentLogger } from "../../logger.ts";
import { createServices } from "../../services/index.ts";
import { LocusError } from "../../services/errors.ts";
import { CopyStoreError } from "../../stores/copy-endpoints.ts";
import { copyStore } from "../../stores/copy-store.ts";
import { isPostgresUrl, migrateStore, openStores } from "../../stores/open.ts";
import { backupDatabase, BackupError } from "../../stores/sqlite/backup.ts";
import { restoreDatabase } from "../../stores/sqlite/restore.ts";
import { backupCommand, restoreCommand } from "./backup.ts";
import { deviceCommand, groupCommand } from "./devices.ts";
import { geofenceCommand } from "./geofences.ts";
import { importCommand } from "./import-command.ts";
import { ruleCommand, webhookCommand } from "./notifications.ts";
import { userCommand } from "./people.ts";
import { copyStoreCommand, migrateCommand } from "./store-commands.ts";
import { CliError, USAGE, type Cli } from "./usage.ts";

/**
 * `npm run locus -- <command>`: administration from scripts, against the server's database file,
 * through the same services (and so the same rules) as the admin API. A server running on the
 * same file sees the changes in its next request; its open feeds follow on their next connect.
 */
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      db: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean", default: false },
      role: { type: "string", default: "viewer" },
      devices: { type: "string", default: "all" },
      groups: { type: "string" },
      name: { type: "string" },
      "allow-id-only": { type: "boolean", default: false },
      yes: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      format: { type: "string" },
      circle: { type: "string" },
      polygon: { type: "string" },
      corridor: { type: "string" },
      width: { type: "string" },
      color: { type: "string" },
      "speed-limit": { type: "string" },
      user: { type: "string" },
      types: { type: "string" },
      geofences: { type: "string" },
      hours: { type: "string" },
      webhooks: { type: "string" },
      push: { type: "boolean", default: false },
      limit: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (err) {
  fail((err as Error).message);
}
const { values, positionals } = parsed;
if (values.help || positionals.length === 0) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const config = loadConfig([], process.env, values.db ? { db: values.db } : {});
const [noun, ...args] = positionals;
const print = (value: unknown, text: string) =>
  console.log(values.json ? JSON.stringify(value, null, 2) : text);

// Backup and restore work on the file itself, before (and instead of) opening the stores: a
// restore must not create or migrate the database it is about to replace.
if (noun === "backup" || noun === "restore") {
  if (isPostgresUrl(config.db)) {
    fail(
      `${noun} works on a SQLite file; for PostgreSQL use pg_dump and pg_restore (README, "Backups")`,
      false,
    );
  }
  const backupCli = { db: config.db, force: values.force, print };
  const storage = { backup: backupDatabase, restore: restoreDatabase };
  try {
    if (noun === "backup") await backupCommand(backupCli, args, storage);
    else restoreCommand(backupCli, args, storage);
  } catch (err) {
    if (err instanceof CliError) fail(err.message, err.showUsage);
    if (err instanceof BackupError) fail(err.message, false);
    throw err;
  }
  process.exit(0);
}

// Migrate and copy-store work on whole databases, before (and instead of) opening the stores.
if (noun === "migrate" || noun === "copy-store") {
  const storeCli = { db: config.db, from: values.from, to: values.to, json: values.json, print };
  const tools = { migrate: migrateStore, copy: copyStore, isPostgresUrl };
  try {
    if (noun === "migrate") await migrateCommand(storeCli, args, tools);
    else await copyStoreCommand(storeCli, args, tools);
  } catch (err) {
    if (err instanceof CliError) fail(err.message, err.showUsage);
    if (err instanceof CopyStoreError) fail(err.message, false);
    // An unreachable or too-new database, or PostgreSQL refusing a statement mid-copy.
    fail(`${noun}: ${(err as Error).message}`, false);
  }
  process.exit(0);
}

const stores = await openStores(
  { ...config, commitDelayMs: 0 },
  { logger: silentLogger, worker: false, now: () => Date.now() },
).catch((err: unknown) => fail((err as Error).message));
const services = await createServices(stores, config, {
  clock: { now: () => Date.now() },
  logger: silentLogger,
});
const cli: Cli = {
  services,
  options: values,
  print,
};

try {
  if (noun === "device") await deviceCommand(cli, args);
  else if (noun === "group") await groupCommand(cli, args);
  else if (noun === "user") await userCommand(cli, args);
  else if (noun === "import") await importCommand(cli, args);
  else if (noun === "geofence") await geofenceCommand(cli, args);
  else if (noun === "webhook") await webhookCommand(cli, args);
  else if (noun === "rule") await ruleCommand(cli, args);
  else throw new CliError(`unknown command "${positionals.join(" ")}"`);
} catch (err) {
  if (err instanceof CliError) fail(err.message, err.showUsage);
  if (err instanceof LocusError) fail(err.message, false);
  throw err;
} finally {
  // An import's fixes go through the event rules before the store goes.
  await services.events.idle();
  await stores.close();
}

function fail(message: string, showUsage = true): never {
  process.stderr.write(`locus: ${message}\n${showUsage ? `\n${USAGE}` : ""}`);
  process.exit(2);
}
