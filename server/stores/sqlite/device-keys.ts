import type { Db } from "./database.ts";

/** Runs a write on the main connection between the storage worker's transactions. */
export type Exclusive = <T>(work: () => T) => Promise<T>;

/**
 * Device ids to the small integer keys rows are stored under: the one map of them in the
 * process. Only the main connection creates devices, so a key is known here the moment it exists;
 * a miss is looked up in the database (the CLI, another process, may have added the device), so
 * this memory can lag the file but never contradict it.
 */
export class DeviceKeys {
  private readonly keys = new Map<string, number>();
  private readonly stmt;
  /** Devices waiting to be created, and the write that will create them all. */
  private creating = new Set<string>();
  private created: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
      key: db.prepare("SELECT id FROM devices WHERE uid = ?").pluck(),
      insert: db.prepare("INSERT OR IGNORE INTO devices (uid, created_at) VALUES (?, ?)"),
    };
  }

  /** The device's key, or undefined when it is not in the database. */
  get(deviceId: string): number | undefined {
    let key = this.keys.get(deviceId);
    if (key === undefined) {
      key = this.stmt.key.get(deviceId) as number | undefined;
      if (key !== undefined) this.keys.set(deviceId, key);
    }
    return key;
  }

  /**
   * Create the devices that do not exist yet, between the worker's writes (so the main thread
   * never waits on the worker's write lock). Devices asked for meanwhile are created together, in
   * one transaction: a fleet that appears at once (a restart under open registration) would
   * otherwise cost one transaction per device on the main thread, seconds for thousands.
   */
  ensure(deviceIds: readonly string[], now: number): Promise<void> {
    const missing = deviceIds.filter((id) => this.get(id) === undefined);
    if (missing.length === 0) return Promise.resolve();
    for (const id of missing) this.creating.add(id);
    // Started a microtask later, so that every device asked for in this turn joins the batch.
    this.created ??= new Promise<void>((resolve, reject) => {
      queueMicrotask(() => this.exclusive(() => this.createWaiting(now)).then(resolve, reject));
    });
    return this.created;
  }

  private createWaiting(now: number): void {
    const batch = [...this.creating];
    this.creating = new Set();
    this.created = null;
    this.db.transaction(() => {
      for (const id of batch) this.stmt.insert.run(id, now);
    })();
    for (const id of batch) this.get(id);
  }

  /** Write a device row on the calling connection, now (already inside an exclusive write). */
  ensureNow(deviceId: string, now: number): number {
    const known = this.get(deviceId);
    if (known !== undefined) return known;
    this.stmt.insert.run(deviceId, now);
    return this.get(deviceId)!;
  }

  /** The device was deleted. */
  forget(deviceId: string): void {
    this.keys.delete(deviceId);
  }
}
