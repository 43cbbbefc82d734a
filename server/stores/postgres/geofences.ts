import type pg from "pg";
import type { FenceShape, Geofence, GeofenceChange } from "../../../protocol/geofence.ts";
import { NameTakenError, type GeofenceStore } from "../ports.ts";

interface FenceRow {
  id: number;
  name: string;
  color: string;
  /** JSON: parsed by pg. */
  shape: FenceShape;
  speed_limit: number | null;
  created_at: number;
  updated_at: number;
}

const FENCE_COLUMNS = "id, name, color, shape, speed_limit, created_at, updated_at";

function toFence(row: FenceRow): Geofence {
  return {
    id: row.id,
    name: row.name,
    color: row.color,
    shape: row.shape,
    speedLimit: row.speed_limit,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** unique_violation of the name (the table's one unique key besides its id). */
const isNameTaken = (err: unknown) => (err as { code?: unknown }).code === "23505";

/** Geofences in PostgreSQL: every node reads the same. */
export class PgGeofenceStore implements GeofenceStore {
  constructor(private readonly pool: pg.Pool) {}

  async list(): Promise<Geofence[]> {
    const { rows } = await this.pool.query<FenceRow>(
      `SELECT ${FENCE_COLUMNS} FROM geofences ORDER BY id`,
    );
    return rows.map(toFence);
  }

  async stamp(): Promise<string> {
    const { rows } = await this.pool.query<{ stamp: string }>(
      `SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(updated_at), 0) AS stamp
       FROM geofences`,
    );
    return rows[0]!.stamp;
  }

  async get(id: number): Promise<Geofence | null> {
    const { rows } = await this.pool.query<FenceRow>(
      `SELECT ${FENCE_COLUMNS} FROM geofences WHERE id = $1`,
      [id],
    );
    return rows[0] ? toFence(rows[0]) : null;
  }

  async create(
    fence: Omit<Geofence, "id" | "createdAt" | "updatedAt">,
    now: number,
  ): Promise<Geofence | null> {
    const { rows } = await this.pool.query<FenceRow>(
      `INSERT INTO geofences (name, color, shape, speed_limit, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING
       RETURNING ${FENCE_COLUMNS}`,
      [fence.name, fence.color, JSON.stringify(fence.shape), fence.speedLimit, now],
    );
    return rows[0] ? toFence(rows[0]) : null;
  }

  async update(id: number, fields: GeofenceChange, now: number): Promise<Geofence | null> {
    const set: string[] = [];
    const values: unknown[] = [];
    const column = (name: string, value: unknown) => {
      values.push(value);
      set.push(`${name} = $${values.length}`);
    };
    if (fields.name !== undefined) column("name", fields.name);
    if (fields.color !== undefined) column("color", fields.color);
    if (fields.shape !== undefined) column("shape", JSON.stringify(fields.shape));
    if (fields.speedLimit !== undefined) column("speed_limit", fields.speedLimit);
    // Nothing to change: the fence as it is, its time of change kept.
    if (set.length === 0) return this.get(id);
    column("updated_at", now);
    values.push(id);
    try {
      const { rows } = await this.pool.query<FenceRow>(
        `UPDATE geofences SET ${set.join(", ")} WHERE id = $${values.length}
         RETURNING ${FENCE_COLUMNS}`,
        values,
      );
      return rows[0] ? toFence(rows[0]) : null;
    } catch (err) {
      if (isNameTaken(err)) throw new NameTakenError(`a geofence named "${fields.name}" exists`);
      throw err;
    }
  }

  async remove(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query("DELETE FROM geofences WHERE id = $1", [id]);
    return rowCount === 1;
  }
}
