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
    const knownBefore = this.deviceKeys.size;
    try {
      return this.insertAll(rows);
    } catch (err) {
      // The transaction rolled back, so device keys learnt inside it may not exist: forget them.
      if (this.deviceKeys.size !== knownBefore) this.reloadDeviceKeys();
      this.trackMarks.forgetAll();
      throw err;
    }
  }

  private insertAll(rows: readonly NewPosition[]): boolean[] {
    return this.db.transaction(() => {
      const inserted: boolean[] = new Array<boolean>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const { deviceId, position: p, receivedAt, flag } = rows[i]!;
        const device = this.deviceKey(deviceId, receivedAt);
        const result = this.stmt.insertPosition.run(
          device,
          p.ts,
          p.lat,
          p.lon,
          p.speed ?? null,
          p.course ?? null,
          p.alt ?? null,
          p.accuracy ?? null,
          p.battery ?? null,
          p.attributes === undefined ? null : JSON.stringify(p.attributes),
          receivedAt,
          flag,
        );
        inserted[i] = result.changes === 1;
        // Implausible fixes are left out of tracks, so they change no level.
        if (inserted[i] && flag === null) this.trackMarks.mark(device, p.ts);
      }
      return inserted;
    })();
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

  private deviceKey(deviceId: string, now: number): number {
    let key = this.deviceKeys.get(deviceId);
    if (key === undefined) {
      this.stmt.insertDevice.run(deviceId, now);
      key = this.stmt.deviceKey.get(deviceId) as number;
      this.deviceKeys.set(deviceId, key);
    }
    return key;
  }
}
