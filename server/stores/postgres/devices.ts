import type pg from "pg";
import type { GroupCommitter } from "../group-commit.ts";
import type { DeviceRecord, DeviceStore, GroupRecord } from "../ports.ts";
import { Coalescer } from "./coalesce.ts";
import { inTransaction } from "./database.ts";
import type { PgBatch } from "./writer.ts";

interface DeviceRow {
  uid: string;
  name: string | null;
  created_at: number;
  token_hash: string | null;
  id_only: boolean;
  speed_limit: number | null;
  groups: string[];
}

const DEVICE_SELECT = `
  SELECT d.uid, d.name, d.created_at, d.token_hash, d.id_only, d.speed_limit,
         ARRAY(SELECT g.name FROM device_groups dg JOIN groups g ON g.id = dg.group_id
               WHERE dg.device_uid = d.uid ORDER BY g.name) AS groups
  FROM devices d`;

function toRecord(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.uid,
    name: row.name,
    createdAt: row.created_at,
    tokenHash: row.token_hash,
    idOnly: row.id_only,
    speedLimit: row.speed_limit,
    groups: row.groups,
  };
}

/** Devices and groups in PostgreSQL. */
export class PgDeviceStore implements DeviceStore {
  /** Look-ups and creations asked for together go as one query each (see Coalescer). */
  private readonly lookUps = new Coalescer<DeviceRecord>(async (uids) => {
    const { rows } = await this.pool.query<DeviceRow>(
      `${DEVICE_SELECT} WHERE d.uid = ANY($1::text[])`,
      [uids],
    );
    return new Map(rows.map((row) => [row.uid, toRecord(row)]));
  });
  private readonly creations = new Coalescer<true>(async (uids) => {
    await this.pool.query(
      `INSERT INTO devices (uid, created_at) SELECT unnest($1::text[]), $2
       ON CONFLICT (uid) DO NOTHING`,
      [uids.sort(), this.creationTime],
    );
    return new Map();
  });

  private creationTime = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly committer: GroupCommitter<PgBatch>,
  ) {}

  async get(deviceId: string): Promise<DeviceRecord | null> {
    return (await this.lookUps.load(deviceId)) ?? null;
  }

  async list(): Promise<DeviceRecord[]> {
    const { rows } = await this.pool.query<DeviceRow>(`${DEVICE_SELECT} ORDER BY d.uid`);
    return rows.map(toRecord);
  }

  async ensure(deviceId: string, now: number): Promise<void> {
    // Devices created together share the time of the last request among them.
    this.creationTime = now;
    await this.creations.load(deviceId);
  }

  async update(
    deviceId: string,
    fields: Partial<Pick<DeviceRecord, "tokenHash" | "idOnly" | "name" | "speedLimit" | "groups">>,
    now: number,
  ): Promise<DeviceRecord> {
    await inTransaction(this.pool, async (client) => {
      await client.query(
        "INSERT INTO devices (uid, created_at) VALUES ($1, $2) ON CONFLICT (uid) DO NOTHING",
        [deviceId, now],
      );
      const set = (column: string, value: unknown) =>
        client.query(`UPDATE devices SET ${column} = $1 WHERE uid = $2`, [value, deviceId]);
      if (fields.tokenHash !== undefined) await set("token_hash", fields.tokenHash);
      if (fields.idOnly !== undefined) await set("id_only", fields.idOnly);
      if (fields.name !== undefined) await set("name", fields.name);
      if (fields.speedLimit !== undefined) await set("speed_limit", fields.speedLimit);
      if (fields.groups !== undefined) {
        await client.query("DELETE FROM device_groups WHERE device_uid = $1", [deviceId]);
        await client.query(
          `INSERT INTO device_groups (group_id, device_uid)
           SELECT id, $1 FROM groups WHERE name = ANY($2::text[]) ON CONFLICT DO NOTHING`,
          [deviceId, fields.groups],
        );
      }
    });
    return (await this.get(deviceId))!;
  }

  async countPositions(deviceId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      "SELECT count(*) AS n FROM positions WHERE device = (SELECT id FROM devices WHERE uid = $1)",
      [deviceId],
    );
    return rows[0]!.n;
  }

  async remove(deviceId: string): Promise<number | null> {
    // Rows this node already queued for it are written first, so none lands after the delete.
    await this.committer.drain();
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        "DELETE FROM devices WHERE uid = $1 RETURNING id",
        [deviceId],
      );
      if (rows.length === 0) return null;
      const id = rows[0]!.id;
      const { rowCount } = await client.query("DELETE FROM positions WHERE device = $1", [id]);
      for (const table of ["track_levels", "track_chunks", "track_dirty"]) {
        await client.query(`DELETE FROM ${table} WHERE device = $1`, [id]);
      }
      for (const table of ["user_devices", "device_groups", "events", "rule_state"]) {
        await client.query(`DELETE FROM ${table} WHERE device_uid = $1`, [deviceId]);
      }
      return rowCount ?? 0;
    });
  }

  async groups(): Promise<GroupRecord[]> {
    const { rows } = await this.pool.query<{ name: string; created_at: number }>(
      "SELECT name, created_at FROM groups ORDER BY name",
    );
    return rows.map((r) => ({ name: r.name, createdAt: r.created_at }));
  }

  async createGroup(name: string, now: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      "INSERT INTO groups (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
      [name, now],
    );
    return rowCount === 1;
  }

  removeGroup(name: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        "DELETE FROM groups WHERE name = $1 RETURNING id",
        [name],
      );
      if (rows.length === 0) return false;
      for (const table of ["device_groups", "user_groups"]) {
        await client.query(`DELETE FROM ${table} WHERE group_id = $1`, [rows[0]!.id]);
      }
      return true;
    });
  }
}
