import type pg from "pg";
import type { HistoryPosition, ImplausibleReason, PositionRow } from "../../../protocol/index.ts";
import type { GroupCommitter } from "../group-commit.ts";
import type { LatestFix, NewPosition, PositionStore, TimeRange } from "../ports.ts";
import { toPosition } from "../rows.ts";
import type { PgBatch } from "./writer.ts";

const POSITION_COLUMNS =
  "ts, lat, lon, speed, course, alt, accuracy, battery, attributes::text AS attributes";
const COLUMN_COUNT = 9;
/** The device's id from its uid, inline: no cache to go stale when another node removes it. */
export const DEVICE_ID = "(SELECT id FROM devices WHERE uid = $1)";

/** Positions in PostgreSQL: reads on the pool, writes through the group committer. */
export class PgPositionStore implements PositionStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly committer: GroupCommitter<PgBatch>,
  ) {}

  append(rows: readonly NewPosition[]): Promise<boolean[]> {
    return this.committer.submit(rows);
  }

  async page(
    deviceId: string,
    range: TimeRange & { limit: number; withFlagged?: boolean },
  ): Promise<HistoryPosition[]> {
    const { from, to, limit, withFlagged } = range;
    const { rows } = await this.pool.query<[...PositionRow, ImplausibleReason | null]>({
      text: `SELECT ${POSITION_COLUMNS}, flag FROM positions
             WHERE device = ${DEVICE_ID} AND ts >= $2 AND ts <= $3
               ${withFlagged ? "" : "AND flag IS NULL"}
             ORDER BY ts LIMIT $4`,
      values: [deviceId, from, to, limit],
      rowMode: "array",
    });
    return rows.map((row) => {
      const p: HistoryPosition = toPosition(row.slice(0, COLUMN_COUNT) as PositionRow);
      const flag = row[COLUMN_COUNT];
      if (flag) p.flag = flag;
      return p;
    });
  }

  /** Pages continue after the last `ts` returned, which (device, ts) being unique makes exact. */
  async *scan(deviceId: string, range: TimeRange, pageSize = 5_000): AsyncGenerator<PositionRow[]> {
    let from = range.from;
    for (;;) {
      const { rows } = await this.pool.query<PositionRow>({
        text: `SELECT ${POSITION_COLUMNS} FROM positions
               WHERE device = ${DEVICE_ID} AND ts >= $2 AND ts <= $3 AND flag IS NULL
               ORDER BY ts LIMIT $4`,
        values: [deviceId, from, range.to, pageSize],
        rowMode: "array",
      });
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      from = rows[rows.length - 1]![0] + 1;
    }
  }

  async latest(): Promise<LatestFix[]> {
    const { rows } = await this.pool.query<[string, ...PositionRow, number | null]>({
      text: `SELECT d.uid, p.*
             FROM devices d LEFT JOIN LATERAL (
               SELECT ${POSITION_COLUMNS}, received_at FROM positions
               WHERE device = d.id AND flag IS NULL ORDER BY ts DESC LIMIT 1) p ON true
             ORDER BY d.id`,
      rowMode: "array",
    });
    return rows.map((row) => {
      const fix = row.slice(1, 1 + COLUMN_COUNT) as PositionRow;
      const found = fix[0] !== null;
      return {
        deviceId: row[0],
        latest: found ? toPosition(fix) : null,
        latestReceivedAt: found ? (row[1 + COLUMN_COUNT] as number) : null,
      };
    });
  }

  stats() {
    return { ...this.committer.stats, queued: this.committer.queued };
  }
}
