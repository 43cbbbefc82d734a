import type pg from "pg";
import type { EventType, FleetEvent } from "../../../protocol/geofence.ts";
import type { EventFilter, EventStore, NewEvent, RuleState } from "../ports.ts";
import { inTransaction } from "./database.ts";

export interface EventRow {
  id: number;
  device_uid: string;
  type: EventType;
  ts: number;
  lat: number;
  lon: number;
  geofence: number;
  /** JSON: parsed by pg. */
  details: FleetEvent["details"];
}

export const EVENT_COLUMNS = "id, device_uid, type, ts, lat, lon, geofence, details";

export function toEvent(row: EventRow): FleetEvent {
  return {
    id: row.id,
    deviceId: row.device_uid,
    type: row.type,
    ts: row.ts,
    lat: row.lat,
    lon: row.lon,
    geofenceId: row.geofence === 0 ? null : row.geofence,
    details: row.details,
  };
}

interface StateRow {
  device_uid: string;
  ts: number;
  state: string;
}

const toState = (row: StateRow): RuleState => ({
  deviceId: row.device_uid,
  ts: row.ts,
  state: row.state,
});

/** The duplicate key of an event: what makes a replayed one the same. */
const keyOf = (deviceId: string, type: string, ts: number, geofence: number) =>
  JSON.stringify([deviceId, type, ts, geofence]);

/**
 * All the events of a call in one statement, one array per column: ids are drawn in input order,
 * and the events already stored are skipped. Times are whole ms (an interpolated crossing time is
 * rounded, as SQLite's store does), which is also what makes a replayed event equal.
 */
const INSERT_EVENTS = `
  INSERT INTO events (device_uid, type, ts, lat, lon, geofence, details)
  SELECT device_uid, type, ts, lat, lon, geofence, details::json
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::double precision[],
              $5::double precision[], $6::bigint[], $7::text[])
       WITH ORDINALITY AS e(device_uid, type, ts, lat, lon, geofence, details, n)
  ORDER BY n
  ON CONFLICT (device_uid, type, ts, geofence) DO NOTHING
  RETURNING id, device_uid, type, ts, geofence`;

const SAVE_STATES = `
  INSERT INTO rule_state (device_uid, ts, state)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
  ON CONFLICT (device_uid) DO UPDATE SET ts = excluded.ts, state = excluded.state
  WHERE rule_state.ts <= excluded.ts`;

/**
 * See `record`. Any constant other than the migration lock (0x10c05, database.ts) and the
 * background-work lock (0x10c06, leadership.ts).
 */
const EVENT_ORDER_LOCK = 0x10c07;

/** Events and the rule engine's state in PostgreSQL. */
export class PgEventStore implements EventStore {
  constructor(private readonly pool: pg.Pool) {}

  async record(events: readonly NewEvent[], states: readonly RuleState[]): Promise<FleetEvent[]> {
    if (events.length === 0 && states.length === 0) return [];
    // One row per device (the last state given wins, as saving them one by one would), in a
    // fixed order so that two nodes saving the same devices lock them in the same order.
    const latest = [...new Map(states.map((s) => [s.deviceId, s])).values()].sort((a, b) =>
      a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
    );
    return inTransaction(this.pool, async (client) => {
      let stored: FleetEvent[] = [];
      if (events.length > 0) {
        // Events become visible in id order: ids are drawn and committed under one lock, so a
        // reader that sees an event sees every one before it (the notification fan-out reads
        // "events after the last id it took", and must never skip one committed late). Events
        // are few (crossings, episodes), so nodes seldom wait on each other here.
        await client.query("SELECT pg_advisory_xact_lock($1)", [EVENT_ORDER_LOCK]);
        const { rows } = await client.query<Omit<EventRow, "lat" | "lon" | "details">>(
          INSERT_EVENTS,
          [
            events.map((e) => e.deviceId),
            events.map((e) => e.type),
            events.map((e) => Math.round(e.ts)),
            events.map((e) => e.lat),
            events.map((e) => e.lon),
            events.map((e) => e.geofenceId ?? 0),
            events.map((e) => JSON.stringify(e.details)),
          ],
        );
        // RETURNING promises no order: match the stored rows to the input by their key. Of two
        // equal events in one call, the first is the one stored.
        const ids = new Map(
          rows.map((r) => [keyOf(r.device_uid, r.type, r.ts, r.geofence), r.id] as const),
        );
        stored = events.flatMap((event) => {
          const ts = Math.round(event.ts);
          const key = keyOf(event.deviceId, event.type, ts, event.geofenceId ?? 0);
          const id = ids.get(key);
          if (id === undefined) return [];
          ids.delete(key);
          const { deviceId, type, lat, lon, geofenceId, details } = event;
          return [{ id, deviceId, type, ts, lat, lon, geofenceId, details }];
        });
      }
      if (latest.length > 0) {
        await client.query(SAVE_STATES, [
          latest.map((s) => s.deviceId),
          latest.map((s) => s.ts),
          latest.map((s) => s.state),
        ]);
      }
      return stored;
    });
  }

  async list(filter: EventFilter): Promise<FleetEvent[]> {
    const { deviceIds, types, geofenceId, from, to, before, limit } = filter;
    if (deviceIds?.length === 0 || types?.length === 0 || limit <= 0) return [];
    const where: string[] = [];
    const values: unknown[] = [];
    const term = (sql: (param: string) => string, value: unknown) => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    // One device: `=`, so the (device_uid, id) index is read backwards with no sort.
    if (deviceIds?.length === 1) term((p) => `device_uid = ${p}`, deviceIds[0]);
    else if (deviceIds) term((p) => `device_uid = ANY(${p}::text[])`, deviceIds);
    if (types) term((p) => `type = ANY(${p}::text[])`, types);
    if (geofenceId !== undefined) term((p) => `geofence = ${p}`, geofenceId);
    if (from !== undefined) term((p) => `ts >= ${p}`, from);
    if (to !== undefined) term((p) => `ts <= ${p}`, to);
    if (before !== undefined) term((p) => `id < ${p}`, before);
    values.push(limit);
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY id DESC LIMIT $${values.length}`,
      values,
    );
    return rows.map(toEvent);
  }

  async ruleState(deviceId: string): Promise<RuleState | null> {
    const { rows } = await this.pool.query<StateRow>(
      "SELECT device_uid, ts, state FROM rule_state WHERE device_uid = $1",
      [deviceId],
    );
    return rows[0] ? toState(rows[0]) : null;
  }

  async ruleStates(): Promise<RuleState[]> {
    const { rows } = await this.pool.query<StateRow>(
      // Byte order, as SQLite sorts.
      'SELECT device_uid, ts, state FROM rule_state ORDER BY device_uid COLLATE "C"',
    );
    return rows.map(toState);
  }
}
