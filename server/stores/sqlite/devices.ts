import type { GroupCommitter } from "../group-commit.ts";
import type { DeviceRecord, DeviceStore, GroupRecord } from "../ports.ts";
import type { Db } from "./database.ts";
import type { DeviceKeys, Exclusive } from "./device-keys.ts";
import type { PackedPositions } from "./packed.ts";
import type { TrackMarks } from "./track-marks.ts";

type DeviceRow = [
  uid: string,
  name: string | null,
  createdAt: number,
  tokenHash: string | null,
  idOnly: number,
  speedLimit: number | null,
  groups: string | null,
];

const DEVICE_SELECT = `
  SELECT d.uid, d.name, d.created_at, d.token_hash, d.id_only, d.speed_limit,
         (SELECT group_concat(name, char(31)) FROM (
            SELECT g.name FROM device_groups dg JOIN groups g ON g.id = dg.group_id
            WHERE dg.device_uid = d.uid ORDER BY g.name))
  FROM devices d`;

function toRecord([
  uid,
  name,
  createdAt,
  tokenHash,
  idOnly,
  speedLimit,
  groups,
]: DeviceRow): DeviceRecord {
  return {
    deviceId: uid,
    name,
    createdAt,
    tokenHash,
    idOnly: idOnly === 1,
    speedLimit,
    groups: groups ? groups.split("\u001f") : [],
  };
}

/** Devices and groups in SQLite; every write runs between the storage worker's transactions. */
export class SqliteDeviceStore implements DeviceStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly keys: DeviceKeys,
    private readonly marks: TrackMarks,
    private readonly committer: GroupCommitter<PackedPositions>,
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
      get: db.prepare(`${DEVICE_SELECT} WHERE d.uid = ?`).raw(),
      list: db.prepare(`${DEVICE_SELECT} ORDER BY d.uid`).raw(),
      setToken: db.prepare("UPDATE devices SET token_hash = ? WHERE uid = ?"),
      setIdOnly: db.prepare("UPDATE devices SET id_only = ? WHERE uid = ?"),
      setName: db.prepare("UPDATE devices SET name = ? WHERE uid = ?"),
      setSpeedLimit: db.prepare("UPDATE devices SET speed_limit = ? WHERE uid = ?"),
      leaveGroups: db.prepare("DELETE FROM device_groups WHERE device_uid = ?"),
      joinGroup: db.prepare(
        `INSERT OR IGNORE INTO device_groups (group_id, device_uid)
         SELECT id, ? FROM groups WHERE name = ?`,
      ),
      countPositions: db.prepare("SELECT count(*) FROM positions WHERE device = ?").pluck(),
      groups: db.prepare("SELECT name, created_at FROM groups ORDER BY name").raw(),
      createGroup: db.prepare("INSERT OR IGNORE INTO groups (name, created_at) VALUES (?, ?)"),
      groupId: db.prepare("SELECT id FROM groups WHERE name = ?").pluck(),
    };
  }

  async get(deviceId: string): Promise<DeviceRecord | null> {
    const row = this.stmt.get.get(deviceId) as DeviceRow | undefined;
    // Another process (the CLI) may have removed it: its key must not be used again.
    if (!row) this.keys.forget(deviceId);
    return row ? toRecord(row) : null;
  }

  async list(): Promise<DeviceRecord[]> {
    return (this.stmt.list.all() as DeviceRow[]).map(toRecord);
  }

  ensure(deviceId: string, now: number): Promise<void> {
    return this.keys.ensure([deviceId], now);
  }

  async update(
    deviceId: string,
    fields: Partial<Pick<DeviceRecord, "tokenHash" | "idOnly" | "name" | "speedLimit" | "groups">>,
    now: number,
  ): Promise<DeviceRecord> {
    await this.exclusive(() =>
      this.db.transaction(() => {
        this.keys.ensureNow(deviceId, now);
        if (fields.tokenHash !== undefined) this.stmt.setToken.run(fields.tokenHash, deviceId);
        if (fields.idOnly !== undefined) this.stmt.setIdOnly.run(fields.idOnly ? 1 : 0, deviceId);
        if (fields.name !== undefined) this.stmt.setName.run(fields.name, deviceId);
        if (fields.speedLimit !== undefined) {
          this.stmt.setSpeedLimit.run(fields.speedLimit, deviceId);
        }
        if (fields.groups !== undefined) {
          this.stmt.leaveGroups.run(deviceId);
          for (const group of fields.groups) this.stmt.joinGroup.run(deviceId, group);
        }
      })(),
    );
    return (await this.get(deviceId))!;
  }

  async countPositions(deviceId: string): Promise<number> {
    const key = this.keys.get(deviceId);
    return key === undefined ? 0 : (this.stmt.countPositions.get(key) as number);
  }

  async remove(deviceId: string): Promise<number | null> {
    const key = this.keys.get(deviceId);
    if (key === undefined) return null;
    // Rows already queued for it are written first, so none lands after the delete under a key
    // that a later device may be given.
    await this.committer.drain();
    const removed = await this.exclusive(() =>
      this.db.transaction(() => {
        const count = this.stmt.countPositions.get(key) as number;
        for (const table of ["positions", "track_levels", "track_chunks", "track_dirty"]) {
          this.db.prepare(`DELETE FROM ${table} WHERE device = ?`).run(key);
        }
        for (const table of ["user_devices", "device_groups", "events", "rule_state"]) {
          this.db.prepare(`DELETE FROM ${table} WHERE device_uid = ?`).run(deviceId);
        }
        this.db.prepare("DELETE FROM devices WHERE id = ?").run(key);
        return count;
      })(),
    );
    this.keys.forget(deviceId);
    this.marks.forgetDevice(key);
    return removed;
  }

  async groups(): Promise<GroupRecord[]> {
    return (this.stmt.groups.all() as [string, number][]).map(([name, createdAt]) => ({
      name,
      createdAt,
    }));
  }

  createGroup(name: string, now: number): Promise<boolean> {
    return this.exclusive(() => this.stmt.createGroup.run(name, now).changes === 1);
  }

  removeGroup(name: string): Promise<boolean> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        const id = this.stmt.groupId.get(name) as number | undefined;
        if (id === undefined) return false;
        for (const table of ["device_groups", "user_groups"]) {
          this.db.prepare(`DELETE FROM ${table} WHERE group_id = ?`).run(id);
        }
        this.db.prepare("DELETE FROM groups WHERE id = ?").run(id);
        return true;
      })(),
    );
  }
}
