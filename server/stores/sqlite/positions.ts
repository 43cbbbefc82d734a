import type { HistoryPosition, ImplausibleReason, PositionRow } from "../../../protocol/index.ts";
import type { GroupCommitter } from "../group-commit.ts";
import type { LatestFix, NewPosition, PositionStore, TimeRange } from "../ports.ts";
import { toPosition } from "../rows.ts";
import type { Db } from "./database.ts";
import type { DeviceKeys } from "./device-keys.ts";
import { packPositions, type PackedPositions } from "./packed.ts";

const POSITION_COLUMNS = "ts, lat, lon, speed, course, alt, accuracy, battery, attributes";
const COLUMN_COUNT = 9;

/**
 * Positions in SQLite: reads on the main connection, writes through the group committer (on the
 * storage worker, normally). Statements are prepared once; rows are keyed by the device's small
 * integer key so each stays compact.
 */
export class SqlitePositionStore implements PositionStore {
  private readonly stmt;

  constructor(
    db: Db,
    private readonly keys: DeviceKeys,
    private readonly committer: GroupCommitter<PackedPositions>,
  ) {
    this.stmt = {
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
      allDevices: db.prepare("SELECT uid, id FROM devices").raw(),
      latest: db
        .prepare(
          `SELECT ${POSITION_COLUMNS}, received_at FROM positions
           WHERE device = ? AND flag IS NULL ORDER BY ts DESC LIMIT 1`,
        )
        .raw(),
    };
  }

  append(rows: readonly NewPosition[]): Promise<boolean[]> {
    // Devices are created before their first report reaches here (DeviceStore.ensure); a device
    // removed meanwhile is created again rather than its rows lost.
    for (const row of rows) {
      if (this.keys.get(row.deviceId) === undefined) return this.appendCreating(rows);
    }
    return this.committer.submit(packPositions(rows, (id) => this.keys.get(id)!));
  }

  private async appendCreating(rows: readonly NewPosition[]): Promise<boolean[]> {
    await this.keys.ensure([...new Set(rows.map((r) => r.deviceId))], rows[0]!.receivedAt);
    return this.append(rows);
  }

  async page(
    deviceId: string,
    range: TimeRange & { limit: number; withFlagged?: boolean },
  ): Promise<HistoryPosition[]> {
    const key = this.keys.get(deviceId);
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
   * Each page is one short query that has finished before it is handed out: better-sqlite3
   * refuses every other statement on the connection while one iterates, which would stall ingest
   * for the length of an export. Pages continue after the last `ts` returned, which (device, ts)
   * being unique makes exact.
   */
  async *scan(deviceId: string, range: TimeRange, pageSize = 5_000): AsyncGenerator<PositionRow[]> {
    const key = this.keys.get(deviceId);
    if (key === undefined) return;
    let from = range.from;
    for (;;) {
      const page = this.stmt.range.all(key, from, range.to, pageSize) as PositionRow[];
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      from = page[page.length - 1]![0] + 1;
    }
  }

  async latest(): Promise<LatestFix[]> {
    const result: LatestFix[] = [];
    for (const [deviceId, key] of this.stmt.allDevices.all() as [string, number][]) {
      const row = this.stmt.latest.get(key) as [...PositionRow, number] | undefined;
      result.push({
        deviceId,
        latest: row ? toPosition(row.slice(0, COLUMN_COUNT) as PositionRow) : null,
        latestReceivedAt: row ? row[COLUMN_COUNT] : null,
      });
    }
    return result;
  }

  stats() {
    return { ...this.committer.stats, queued: this.committer.queued };
  }
}
