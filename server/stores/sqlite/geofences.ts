import type { FenceShape, Geofence, GeofenceChange } from "../../../protocol/geofence.ts";
import { NameTakenError, type GeofenceStore } from "../ports.ts";
import type { Db } from "./database.ts";
import type { Exclusive } from "./device-keys.ts";

type FenceRow = [
  id: number,
  name: string,
  color: string,
  shape: string,
  speedLimit: number | null,
  createdAt: number,
  updatedAt: number,
];

const FENCE_SELECT =
  "SELECT id, name, color, shape, speed_limit, created_at, updated_at FROM geofences";

function toFence([id, name, color, shape, speedLimit, createdAt, updatedAt]: FenceRow): Geofence {
  return {
    id,
    name,
    color,
    shape: JSON.parse(shape) as FenceShape,
    speedLimit,
    createdAt,
    updatedAt,
  };
}

/** The one unique key of the table besides its id: another fence has the name. */
const isNameTaken = (err: unknown) =>
  (err as { code?: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE";

/** Geofences in SQLite; every write runs between the storage worker's transactions. */
export class SqliteGeofenceStore implements GeofenceStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
      list: db.prepare(`${FENCE_SELECT} ORDER BY id`).raw(),
      get: db.prepare(`${FENCE_SELECT} WHERE id = ?`).raw(),
      stamp: db
        .prepare(
          `SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(updated_at), 0)
           FROM geofences`,
        )
        .pluck(),
      insert: db
        .prepare(
          `INSERT INTO geofences (name, color, shape, speed_limit, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`,
        )
        .pluck(),
      remove: db.prepare("DELETE FROM geofences WHERE id = ?"),
    };
  }

  async list(): Promise<Geofence[]> {
    return (this.stmt.list.all() as FenceRow[]).map(toFence);
  }

  async stamp(): Promise<string> {
    return this.stmt.stamp.get() as string;
  }

  async get(id: number): Promise<Geofence | null> {
    const row = this.stmt.get.get(id) as FenceRow | undefined;
    return row ? toFence(row) : null;
  }

  create(
    fence: Omit<Geofence, "id" | "createdAt" | "updatedAt">,
    now: number,
  ): Promise<Geofence | null> {
    return this.exclusive(() => {
      const { name, color, shape, speedLimit } = fence;
      const id = this.stmt.insert.get(name, color, JSON.stringify(shape), speedLimit, now, now) as
        number | undefined;
      if (id === undefined) return null;
      return { id, name, color, shape, speedLimit, createdAt: now, updatedAt: now };
    });
  }

  update(id: number, fields: GeofenceChange, now: number): Promise<Geofence | null> {
    const set: string[] = [];
    const values: unknown[] = [];
    const column = (name: string, value: unknown) => {
      set.push(`${name} = ?`);
      values.push(value);
    };
    if (fields.name !== undefined) column("name", fields.name);
    if (fields.color !== undefined) column("color", fields.color);
    if (fields.shape !== undefined) column("shape", JSON.stringify(fields.shape));
    if (fields.speedLimit !== undefined) column("speed_limit", fields.speedLimit);
    // Nothing to change: the fence as it is, its time of change kept.
    if (set.length === 0) return this.get(id);
    column("updated_at", now);
    return this.exclusive(() => {
      let row: FenceRow | undefined;
      try {
        row = this.db
          .prepare(
            `UPDATE geofences SET ${set.join(", ")} WHERE id = ?
             RETURNING id, name, color, shape, speed_limit, created_at, updated_at`,
          )
          .raw()
          .get(...values, id) as FenceRow | undefined;
      } catch (err) {
        if (isNameTaken(err)) throw new NameTakenError(`a geofence named "${fields.name}" exists`);
        throw err;
      }
      return row ? toFence(row) : null;
    });
  }

  remove(id: number): Promise<boolean> {
    return this.exclusive(() => this.stmt.remove.run(id).changes === 1);
  }
}
