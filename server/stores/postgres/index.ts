import type pg from "pg";
import type { Logger } from "../../logger.ts";
import { GroupCommitter, type BatchWriter } from "../group-commit.ts";
import type { Stores } from "../ports.ts";
import { migrate, openPool, redact } from "./database.ts";
import { PgDeviceStore } from "./devices.ts";
import { PgEventStore } from "./events.ts";
import { PgGeofenceStore } from "./geofences.ts";
import { PgNotificationStore } from "./notifications.ts";
import { PgPushStore } from "./push.ts";
import { Leadership } from "./leadership.ts";
import { Partitions } from "./partitions.ts";
import { PgPositionStore } from "./positions.ts";
import { PgTrackStore } from "./tracks.ts";
import { PgUserStore } from "./users.ts";
import { PgPositionWriter, type PgBatch } from "./writer.ts";

/** How often an idle node checks it can still reach PostgreSQL, for /api/health. */
const PROBE_MS = 2000;
/** How often the leading node makes sure the coming months have their partitions. */
const UPKEEP_MS = 3_600_000;

export interface PostgresOptions {
  url: string;
  /** Least a report waits for its group commit (ms). */
  commitDelayMs: number;
  /** Rows that trigger a commit at once. */
  commitMaxRows: number;
  now: () => number;
}

export interface PostgresStores extends Stores {
  pool: pg.Pool;
}

/**
 * Open PostgreSQL behind every storage port: the cluster store. Fails fast, naming the setting,
 * when the server cannot be reached or its schema is newer than this Locus; migrates otherwise.
 */
export async function openPostgresStores(
  options: PostgresOptions,
  logger: Logger,
): Promise<PostgresStores> {
  const pool = await openPool(options.url);
  try {
    const { from, to } = await migrate(pool);
    if (from !== to) logger.info({ from, to }, "PostgreSQL schema migrated");
  } catch (err) {
    await pool.end();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`--db (LOCUS_DB): cannot use ${redact(options.url)}: ${reason}`, {
      cause: err,
    });
  }
  const partitions = new Partitions(pool);
  await partitions.load();
  await partitions.ensureAhead(options.now());
  const leadership = new Leadership(options.url, logger);
  await leadership.start();

  // Why the node cannot commit, from the last write or probe; null when it can.
  let failure: string | null = null;
  const writer = new PgPositionWriter(pool, partitions, options.now);
  const observed: BatchWriter<PgBatch> = {
    write: (batches) =>
      writer.write(batches).then(
        (inserted) => ((failure = null), inserted),
        (err: unknown) => {
          failure = `PostgreSQL: ${err instanceof Error ? err.message : String(err)}`;
          throw err;
        },
      ),
    close: () => writer.close(),
  };
  const probe = setInterval(() => {
    pool.query("SELECT 1").then(
      () => (failure = null),
      (err: Error) => (failure = `PostgreSQL: ${err.message}`),
    );
  }, PROBE_MS);
  const upkeep = setInterval(() => {
    if (!leadership.leads) return;
    partitions.ensureAhead(options.now()).catch((err: unknown) => {
      logger.error({ err }, "creating the coming months' partitions failed");
    });
  }, UPKEEP_MS);
  probe.unref();
  upkeep.unref();

  const committer = new GroupCommitter(
    observed,
    { delayMs: options.commitDelayMs, maxRows: options.commitMaxRows },
    logger,
  );
  let stopping: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  return {
    pool,
    positions: new PgPositionStore(pool, committer),
    devices: new PgDeviceStore(pool, committer),
    users: new PgUserStore(pool),
    tracks: new PgTrackStore(pool),
    geofences: new PgGeofenceStore(pool),
    events: new PgEventStore(pool),
    notifications: new PgNotificationStore(pool),
    push: new PgPushStore(pool),
    health: () => (failure ? { ok: false, reason: failure } : { ok: true }),
    leadsBackgroundWork: () => leadership.leads,
    observeCommits(observer) {
      committer.observer = observer;
    },
    stopWriting: () => (stopping ??= committer.close()),
    close: () =>
      (closing ??= (async () => {
        await (stopping ??= committer.close());
        clearInterval(probe);
        clearInterval(upkeep);
        await leadership.close();
        await pool.end();
      })()),
  };
}
