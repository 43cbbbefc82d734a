import type { Logger } from "../../logger.ts";
import { GroupCommitter } from "../group-commit.ts";
import type { Stores } from "../ports.ts";
import { Checkpointer } from "./checkpointer.ts";
import { openDatabase, type Db } from "./database.ts";
import { DeviceKeys } from "./device-keys.ts";
import { SqliteDeviceStore } from "./devices.ts";
import { SqliteEventStore } from "./events.ts";
import { SqliteGeofenceStore } from "./geofences.ts";
import { SqliteNotificationStore } from "./notifications.ts";
import { SqlitePushStore } from "./push.ts";
import { PositionInserter } from "./inserts.ts";
import type { PackedPositions } from "./packed.ts";
import { SqlitePositionStore } from "./positions.ts";
import { TrackMarks } from "./track-marks.ts";
import { SqliteTrackStore } from "./tracks.ts";
import { SqliteUserStore } from "./users.ts";
import { inlineWriter, WorkerWriter, type PositionWriter } from "./writer.ts";

/** How often the background checkpointer copies the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 1000;

export interface SqliteOptions {
  /** The database file, or ":memory:". */
  file: string;
  durability: "normal" | "full";
  /** Least a report waits for its group commit (ms). */
  commitDelayMs: number;
  /** Rows that trigger a commit at once. */
  commitMaxRows: number;
  /**
   * Write positions on a worker thread (the server) or on the calling one (the CLI, and always
   * for ":memory:", which no other thread can open).
   */
  worker: boolean;
}

export interface SqliteStores extends Stores {
  /** The main connection, for the backup and the tests' own checks. */
  db: Db;
  committer: GroupCommitter<PackedPositions>;
}

/** Open the SQLite file behind every storage port: the embedded default. */
export function openSqliteStores(options: SqliteOptions, logger: Logger): SqliteStores {
  const { file, durability } = options;
  const db = openDatabase(file, { durability, logger });
  const marks = new TrackMarks(db);
  const threads = options.worker && file !== ":memory:";
  const writer: PositionWriter = threads
    ? new WorkerWriter({ file, durability }, marks, logger)
    : inlineWriter(new PositionInserter(db, marks));
  const checkpointer = threads
    ? new Checkpointer({ file, durability, intervalMs: CHECKPOINT_INTERVAL_MS }, logger)
    : null;
  const committer = new GroupCommitter(
    writer,
    { delayMs: options.commitDelayMs, maxRows: options.commitMaxRows },
    logger,
  );
  const exclusive = <T>(work: () => T) => committer.runExclusive(work);
  const keys = new DeviceKeys(db, exclusive);
  let stopping: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  return {
    db,
    committer,
    positions: new SqlitePositionStore(db, keys, committer),
    devices: new SqliteDeviceStore(db, keys, marks, committer, exclusive),
    users: new SqliteUserStore(db, exclusive),
    tracks: new SqliteTrackStore(db, keys, marks, exclusive),
    geofences: new SqliteGeofenceStore(db, exclusive),
    events: new SqliteEventStore(db, exclusive),
    notifications: new SqliteNotificationStore(db, exclusive),
    push: new SqlitePushStore(db, exclusive),
    health() {
      // A worker that keeps dying is broken for good; a failed commit (the file locked by
      // another process past busy_timeout, a full disk) holds until a commit succeeds again.
      const failure = (writer instanceof WorkerWriter ? writer.failure : null) ?? committer.failure;
      return failure ? { ok: false, reason: failure.message } : { ok: true };
    },
    leadsBackgroundWork: () => true,
    observeCommits(observer) {
      committer.observer = observer;
    },
    stopWriting: () => (stopping ??= committer.close()),
    close: () =>
      (closing ??= (async () => {
        await (stopping ??= committer.close());
        await checkpointer?.close();
        db.close();
      })()),
  };
}
