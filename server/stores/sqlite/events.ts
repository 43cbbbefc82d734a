import type { Statement } from "better-sqlite3";
import type { EventType, FleetEvent } from "../../../protocol/geofence.ts";
import type { EventFilter, EventStore, NewEvent, RuleState } from "../ports.ts";
import type { Db } from "./database.ts";
import type { Exclusive } from "./device-keys.ts";

export type EventRow = [
  id: number,
  deviceUid: string,
  type: EventType,
  ts: number,
  lat: number,
  lon: number,
  geofence: number,
  details: string,
];

export const EVENT_COLUMNS = "id, device_uid, type, ts, lat, lon, geofence, details";

export function toEvent([
  id,
  deviceId,
  type,
  ts,
  lat,
  lon,
  geofence,
  details,
]: EventRow): FleetEvent {
  return {
    id,
    deviceId,
    type,
    ts,
    lat,
    lon,
    geofenceId: geofence === 0 ? null : geofence,
    details: JSON.parse(details) as FleetEvent["details"],
  };
}

type StateRow = [deviceId: string, ts: number, state: string];

const toState = ([deviceId, ts, state]: StateRow): RuleState => ({ deviceId, ts, state });

/** Events and the rule engine's state in SQLite; every write runs between the worker's. */
export class SqliteEventStore implements EventStore {
  private readonly stmt;
  /** list()'s statements by their text: a few dozen combinations of filters at most. */
  private readonly lists = new Map<string, Statement>();

  constructor(
    private readonly db: Db,
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
      insert: db
        .prepare(
          `INSERT INTO events (device_uid, type, ts, lat, lon, geofence, details)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (device_uid, type, ts, geofence) DO NOTHING RETURNING id`,
        )
        .pluck(),
      saveState: db.prepare(
        `INSERT INTO rule_state (device_uid, ts, state) VALUES (?, ?, ?)
         ON CONFLICT (device_uid) DO UPDATE SET ts = excluded.ts, state = excluded.state
         WHERE rule_state.ts <= excluded.ts`,
      ),
      state: db.prepare("SELECT device_uid, ts, state FROM rule_state WHERE device_uid = ?").raw(),
      states: db.prepare("SELECT device_uid, ts, state FROM rule_state ORDER BY device_uid").raw(),
    };
  }

  async record(events: readonly NewEvent[], states: readonly RuleState[]): Promise<FleetEvent[]> {
    if (events.length === 0 && states.length === 0) return [];
    return this.exclusive(() =>
      this.db.transaction(() => {
        const stored: FleetEvent[] = [];
        for (const event of events) {
          const { deviceId, type, lat, lon, geofenceId, details } = event;
          // Whole ms, as PostgreSQL's BIGINT keeps them: an interpolated time is rounded.
          const ts = Math.round(event.ts);
          const id = this.stmt.insert.get(
            deviceId,
            type,
            ts,
            lat,
            lon,
            geofenceId ?? 0,
            JSON.stringify(details),
          ) as number | undefined;
          if (id !== undefined)
            stored.push({ id, deviceId, type, ts, lat, lon, geofenceId, details });
        }
        for (const { deviceId, ts, state } of states) this.stmt.saveState.run(deviceId, ts, state);
        return stored;
      })(),
    );
  }

  async list(filter: EventFilter): Promise<FleetEvent[]> {
    const { deviceIds, types, geofenceId, from, to, before, limit } = filter;
    if (deviceIds?.length === 0 || types?.length === 0 || limit <= 0) return [];
    const where: string[] = [];
    const values: unknown[] = [];
    // One device: `=`, so the (device_uid, id) index is read backwards with no sort.
    if (deviceIds?.length === 1) {
      where.push("device_uid = ?");
      values.push(deviceIds[0]);
    } else if (deviceIds) {
      // One parameter whatever the number of devices (a viewer may see thousands).
      where.push("device_uid IN (SELECT value FROM json_each(?))");
      values.push(JSON.stringify(deviceIds));
    }
    if (types) {
      where.push("type IN (SELECT value FROM json_each(?))");
      values.push(JSON.stringify(types));
    }
    if (geofenceId !== undefined) {
      where.push("geofence = ?");
      values.push(geofenceId);
    }
    if (from !== undefined) {
      where.push("ts >= ?");
      values.push(from);
    }
    if (to !== undefined) {
      where.push("ts <= ?");
      values.push(to);
    }
    if (before !== undefined) {
      where.push("id < ?");
      values.push(before);
    }
    const sql = `SELECT ${EVENT_COLUMNS} FROM events
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    let query = this.lists.get(sql);
    if (!query) this.lists.set(sql, (query = this.db.prepare(sql).raw()));
    return (query.all(...values, limit) as EventRow[]).map(toEvent);
  }

  async ruleState(deviceId: string): Promise<RuleState | null> {
    const row = this.stmt.state.get(deviceId) as StateRow | undefined;
    return row ? toState(row) : null;
  }

  async ruleStates(): Promise<RuleState[]> {
    return (this.stmt.states.all() as StateRow[]).map(toState);
  }
}
