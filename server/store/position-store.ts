import type { HistoryPosition, ImplausibleReason, Position } from "../../protocol/index.ts";
import type { Db } from "./database.ts";
import { TrackMarks } from "./track-store.ts";

/** A validated position on its way to disk. */
export interface NewPosition {
  deviceId: string;
  position: Position;
  receivedAt: number;
  /** Why the fix is implausible, or null. Flagged fixes are stored but left out of views. */
  flag: ImplausibleReason | null;
}

export interface StoredDevice {
  deviceId: string;
  /** The fix with the greatest `ts`, or null for a device that never reported. */
  latest: Position | null;
  /** When the server received that fix (epoch ms). */
  latestReceivedAt: number | null;
}

/** A stored fix as the raw row the store reads: compact, for long streaming passes. */
export type PositionRow = [
  ts: number,
  lat: number,
  lon: number,
  speed: number | null,
  course: number | null,
  alt: number | null,
  accuracy: number | null,
  battery: number | null,
  attributes: string | null,
];

const POSITION_COLUMNS = "ts, lat, lon, speed, course, alt, accuracy, battery, attributes";
const COLUMN_COUNT = 9;

/**
 * A batch of new positions as a transferable buffer for the storage worker: per row
 * [ts, lat, lon, speed, course, alt, accuracy, battery, receivedAt] (NaN for absent), plus the
 * device ids and the rare flags and attributes by row index. Posting objects instead costs the
 * main thread a structured clone of every row.
 */
export interface PackedPositions {
  uids: string[];
  numbers: Float64Array<ArrayBuffer>;
  flags: [row: number, flag: ImplausibleReason][];
  attributes: [row: number, json: string][];
}
const PACKED_STRIDE = 9;

export function packPositions(rows: readonly NewPosition[]): PackedPositions {
  const uids = new Array<string>(rows.length);
  const numbers = new Float64Array(rows.length * PACKED_STRIDE);
  const packed: PackedPositions = { uids, numbers, flags: [], attributes: [] };
  for (let i = 0, o = 0; i < rows.length; i++, o += PACKED_STRIDE) {
    const { deviceId, position: p, receivedAt, flag } = rows[i]!;
    uids[i] = deviceId;
    numbers[o] = p.ts;
    numbers[o + 1] = p.lat;
    numbers[o + 2] = p.lon;
    numbers[o + 3] = p.speed ?? NaN;
    numbers[o + 4] = p.course ?? NaN;
    numbers[o + 5] = p.alt ?? NaN;
    numbers[o + 6] = p.accuracy ?? NaN;
    numbers[o + 7] = p.battery ?? NaN;
    numbers[o + 8] = receivedAt;
    if (flag !== null) packed.flags.push([i, flag]);
    if (p.attributes !== undefined) packed.attributes.push([i, JSON.stringify(p.attributes)]);
  }
  return packed;
}

/** Rebuild the contract's Position from a row, leaving out what the device never sent. */
export function toPosition(row: PositionRow): Position {
  const [ts, lat, lon, speed, course, alt, accuracy, battery, attributes] = row;
  const p: Position = { ts, lat, lon };
  if (speed !== null) p.speed = speed;
  if (course !== null) p.course = course;
  if (alt !== null) p.alt = alt;
  if (accuracy !== null) p.accuracy = accuracy;
  if (battery !== null) p.battery = battery;
  if (attributes !== null) p.attributes = JSON.parse(attributes) as Position["attributes"];
  return p;
}

/**
 * The only place that speaks SQL about devices and positions. Statements are prepared once;
 * device ids are mapped to small integer keys so each stored row stays compact.
 */
export class PositionStore {
  private readonly deviceKeys = new Map<string, number>();
  private readonly stmt;
  /** Hours whose level-of-detail tracks must be rebuilt because fixes landed in them. */
  readonly trackMarks: TrackMarks;

  constructor(private readonly db: Db) {
    this.trackMarks = new TrackMarks(db);
    this.stmt = {
      insertDevice: db.prepare("INSERT OR IGNORE INTO devices (uid, created_at) VALUES (?, ?)"),
      deviceKey: db.prepare("SELECT id FROM devices WHERE uid = ?").pluck(),
      allDeviceKeys: db.prepare("SELECT uid, id FROM devices").raw(),
      insertPosition: db.prepare(
        `INSERT OR IGNORE INTO positions (device, ${POSITION_COLUMNS}, received_at, flag)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      range: db
        .prepare(
          `SELECT ${POSITION_COLUMNS} FROM positions
           WHERE device = ? AND ts >= ? AND ts <= ? AND flag IS NULL ORDER BY ts LIMIT ?`,
        )
        .raw(),
      rangeWithFlagged: db
        .prepare(
          `SELECT ${POSITION_COLUMNS}, flag FROM positions
           WHERE device = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?`,
        )
        .raw(),
      latest: db
        .prepare(
          `SELECT ${POSITION_COLUMNS}, received_at FROM positions
           WHERE device = ? AND flag IS NULL ORDER BY ts DESC LIMIT 1`,
        )
        .raw(),
    };
    this.reloadDeviceKeys();
  }

  private reloadDeviceKeys(): void {
    this.deviceKeys.clear();
    for (const [uid, id] of this.stmt.allDeviceKeys.all() as [string, number][]) {
      this.deviceKeys.set(uid, id);
    }
  }

  /**
   * Store positions in ONE transaction. Returns, per input row, whether it was new (false: the
   * device already had a fix with that `ts`, so it is a duplicate and nothing was written).
   */
  insertBatch(rows: readonly NewPosition[]): boolean[] {
    return Array.from(this.insertPacked(packPositions(rows)).inserted, (n) => n === 1);
  }

  /**
   * `insertBatch` for a batch packed by `packPositions` (the storage worker's input): per row 1 if
   * stored, 0 if a duplicate, and the keys of devices first seen in this batch.
   */
  insertPacked(batch: PackedPositions): {
    inserted: Uint8Array<ArrayBuffer>;
    newDevices: [string, number][];
  } {
    const knownBefore = this.deviceKeys.size;
    const newDevices: [string, number][] = [];
    try {
      const inserted = this.db.transaction(() => this.insertRows(batch, newDevices))();
      return { inserted, newDevices };
    } catch (err) {
      // The transaction rolled back, so device keys learnt inside it may not exist: forget them.
      if (this.deviceKeys.size !== knownBefore) this.reloadDeviceKeys();
      this.trackMarks.forgetAll();
      throw err;
    }
  }

  private insertRows(
    batch: PackedPositions,
    newDevices: [string, number][],
  ): Uint8Array<ArrayBuffer> {
    const { uids, numbers } = batch;
    const flags = new Map(batch.flags);
    const attributes = new Map(batch.attributes);
    const inserted = new Uint8Array(uids.length);
    const orNull = (x: number) => (Number.isNaN(x) ? null : x);
    for (let i = 0, o = 0; i < uids.length; i++, o += PACKED_STRIDE) {
      const receivedAt = numbers[o + 8]!;
      const device = this.deviceKey(uids[i]!, receivedAt, newDevices);
      const ts = numbers[o]!;
      const flag = flags.get(i) ?? null;
      const result = this.stmt.insertPosition.run(
        device,
        ts,
        numbers[o + 1],
        numbers[o + 2],
        orNull(numbers[o + 3]!),
        orNull(numbers[o + 4]!),
        orNull(numbers[o + 5]!),
        orNull(numbers[o + 6]!),
        orNull(numbers[o + 7]!),
        attributes.get(i) ?? null,
        receivedAt,
        flag,
      );
      inserted[i] = result.changes;
      // Implausible fixes are left out of tracks, so they change no level.
      if (result.changes === 1 && flag === null) this.trackMarks.mark(device, ts);
    }
    return inserted;
  }

  /** Device keys the storage worker assigned (its connection inserted the devices). */
  learnDevices(devices: readonly [string, number][]): void {
    for (const [uid, key] of devices) this.deviceKeys.set(uid, key);
  }

  hasDevice(deviceId: string): boolean {
    return this.deviceKeys.has(deviceId);
  }

  /**
   * Positions of one device with from ≤ ts ≤ to, oldest first, at most `limit`. Implausible fixes
   * are left out unless `withFlagged`, in which case each carries its `flag`.
   */
  positions(
    deviceId: string,
    range: { from: number; to: number; limit: number; withFlagged?: boolean },
  ): HistoryPosition[] {
    const key = this.deviceKeys.get(deviceId);
    if (key === undefined) return [];
    const { from, to, limit } = range;
    if (!range.withFlagged) {
      return (this.stmt.range.all(key, from, to, limit) as PositionRow[]).map(toPosition);
    }
    const rows = this.stmt.rangeWithFlagged.all(key, from, to, limit) as [
      ...PositionRow,
      ImplausibleReason | null,
    ][];
    return rows.map((row) => {
      const p: HistoryPosition = toPosition(row.slice(0, COLUMN_COUNT) as PositionRow);
      const flag = row[COLUMN_COUNT];
      if (flag) p.flag = flag;
      return p;
    });
  }

  /**
   * A device's plausible fixes with from ≤ ts ≤ to, oldest first, in pages of `pageSize` rows.
   * Each page is one short query that has finished before it is handed out, so the caller may
   * await between pages (a slow download, a yield to the event loop) without holding a cursor
   * open: better-sqlite3 refuses every other statement on the connection while one iterates,
   * which would stall ingest for the length of an export. Pages continue after the last `ts`
   * returned, which (device, ts) being unique makes exact.
   */
  *scan(
    deviceId: string,
    range: { from: number; to: number },
    pageSize = 5_000,
  ): Generator<PositionRow[], void, undefined> {
    // Not only the cache: the CLI may have imported into a device this process has not seen.
    const key =
      this.deviceKeys.get(deviceId) ?? (this.stmt.deviceKey.get(deviceId) as number | undefined);
    if (key === undefined) return;
    let from = range.from;
    for (;;) {
      const page = this.stmt.range.all(key, from, range.to, pageSize) as PositionRow[];
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      from = page[page.length - 1]![0] + 1;
    }
  }

  /** Every known device with its newest fix: the live hub's state after a restart. */
  devices(): StoredDevice[] {
    const result: StoredDevice[] = [];
    for (const [deviceId, key] of this.deviceKeys) {
      const row = this.stmt.latest.get(key) as [...PositionRow, number] | undefined;
      result.push({
        deviceId,
        latest: row ? toPosition(row.slice(0, COLUMN_COUNT) as PositionRow) : null,
        latestReceivedAt: row ? row[COLUMN_COUNT] : null,
      });
    }
    return result;
  }

  private deviceKey(deviceId: string, now: number, learnt: [string, number][]): number {
    let key = this.deviceKeys.get(deviceId);
    if (key === undefined) {
      this.stmt.insertDevice.run(deviceId, now);
      key = this.stmt.deviceKey.get(deviceId) as number;
      this.deviceKeys.set(deviceId, key);
      learnt.push([deviceId, key]);
    }
    return key;
  }
}
