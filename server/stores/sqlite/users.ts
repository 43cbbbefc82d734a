import type { Role } from "../../../protocol/index.ts";
import type { GrantRecord, UserRecord, UserStore } from "../ports.ts";
import type { Db } from "./database.ts";
import type { Exclusive } from "./device-keys.ts";

type UserRow = [id: number, name: string, role: Role, allDevices: number];

const USER_COLUMNS = "u.id, u.name, u.role, u.all_devices";

/** Users, their grants, sessions and API tokens: the only SQL about people. */
export class SqliteUserStore implements UserStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    /** Writes run between the storage worker's transactions, never waiting on its lock. */
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
      count: db.prepare("SELECT count(*) FROM users").pluck(),
      insert: db.prepare(
        `INSERT OR IGNORE INTO users (name, password_hash, role, all_devices, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      grantDevice: db.prepare(
        "INSERT OR IGNORE INTO user_devices (user_id, device_uid) VALUES (?, ?)",
      ),
      grantGroup: db.prepare(
        `INSERT OR IGNORE INTO user_groups (user_id, group_id)
         SELECT ?, id FROM groups WHERE name = ?`,
      ),
      deviceGrants: db.prepare("SELECT device_uid FROM user_devices WHERE user_id = ?").pluck(),
      groupGrants: db
        .prepare(
          `SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id
           WHERE ug.user_id = ? ORDER BY g.name`,
        )
        .pluck(),
      byName: db
        .prepare(`SELECT ${USER_COLUMNS}, u.password_hash FROM users u WHERE u.name = ?`)
        .raw(),
      all: db.prepare(`SELECT ${USER_COLUMNS} FROM users u ORDER BY u.name`).raw(),
      idByName: db.prepare("SELECT id FROM users WHERE name = ?").pluck(),
      setPassword: db.prepare("UPDATE users SET password_hash = ? WHERE id = ?"),
      setAccess: db.prepare("UPDATE users SET role = ?, all_devices = ? WHERE id = ?"),
      deleteUser: db.prepare("DELETE FROM users WHERE id = ?"),
      deleteDeviceGrants: db.prepare("DELETE FROM user_devices WHERE user_id = ?"),
      deleteGroupGrants: db.prepare("DELETE FROM user_groups WHERE user_id = ?"),
      deleteSessions: db.prepare("DELETE FROM sessions WHERE user_id = ?"),
      deleteApiTokens: db.prepare("DELETE FROM api_tokens WHERE user_id = ?"),
      deleteOutbox: db.prepare(
        `DELETE FROM outbox
         WHERE channel = 'webhook' AND target_id IN (SELECT id FROM webhooks WHERE user_id = ?)`,
      ),
      deletePushOutbox: db.prepare(
        `DELETE FROM outbox
         WHERE channel = 'push'
           AND target_id IN (SELECT id FROM push_subscriptions WHERE user_id = ?)`,
      ),
      deletePushSubscriptions: db.prepare("DELETE FROM push_subscriptions WHERE user_id = ?"),
      deleteWebhooks: db.prepare("DELETE FROM webhooks WHERE user_id = ?"),
      deleteRules: db.prepare("DELETE FROM rules WHERE user_id = ?"),
      insertSession: db.prepare(
        "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
      ),
      session: db
        .prepare(
          `SELECT ${USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = ? AND s.expires_at > ?`,
        )
        .raw(),
      deleteSession: db.prepare("DELETE FROM sessions WHERE token_hash = ?"),
      deleteExpired: db.prepare("DELETE FROM sessions WHERE expires_at <= ?"),
      insertApiToken: db.prepare(
        "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES (?, ?, ?)",
      ),
      apiToken: db
        .prepare(
          `SELECT ${USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_hash = ?`,
        )
        .raw(),
    };
  }

  async count(): Promise<number> {
    return this.stmt.count.get() as number;
  }

  async list(): Promise<UserRecord[]> {
    return (this.stmt.all.all() as UserRow[]).map((row) => this.toRecord(row));
  }

  async byName(name: string): Promise<(UserRecord & { passwordHash: string }) | null> {
    const row = this.stmt.byName.get(name) as [...UserRow, string] | undefined;
    if (!row) return null;
    return { ...this.toRecord(row.slice(0, 4) as UserRow), passwordHash: row[4] };
  }

  create(
    user: { name: string; role: Role; grant: GrantRecord; passwordHash: string },
    now: number,
  ): Promise<boolean> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        const { name, passwordHash, role, grant } = user;
        const result = this.stmt.insert.run(name, passwordHash, role, grant.all ? 1 : 0, now);
        if (result.changes === 0) return false;
        this.writeGrants(Number(result.lastInsertRowid), grant);
        return true;
      })(),
    );
  }

  setAccess(name: string, access: { role: Role; grant: GrantRecord }): Promise<boolean> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        const id = this.stmt.idByName.get(name) as number | undefined;
        if (id === undefined) return false;
        this.stmt.setAccess.run(access.role, access.grant.all ? 1 : 0, id);
        this.stmt.deleteDeviceGrants.run(id);
        this.stmt.deleteGroupGrants.run(id);
        this.writeGrants(id, access.grant);
        return true;
      })(),
    );
  }

  setPasswordHash(name: string, passwordHash: string): Promise<boolean> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        const id = this.stmt.idByName.get(name) as number | undefined;
        if (id === undefined) return false;
        this.stmt.setPassword.run(passwordHash, id);
        this.stmt.deleteSessions.run(id);
        return true;
      })(),
    );
  }

  remove(name: string): Promise<boolean> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        const id = this.stmt.idByName.get(name) as number | undefined;
        if (id === undefined) return false;
        for (const stmt of [
          this.stmt.deleteDeviceGrants,
          this.stmt.deleteGroupGrants,
          this.stmt.deleteSessions,
          this.stmt.deleteApiTokens,
          this.stmt.deleteOutbox,
          this.stmt.deletePushOutbox,
          this.stmt.deleteWebhooks,
          this.stmt.deleteRules,
          this.stmt.deletePushSubscriptions,
          this.stmt.deleteUser,
        ]) {
          stmt.run(id);
        }
        return true;
      })(),
    );
  }

  async createSession(userId: number, tokenHash: string, expiresAt: number): Promise<void> {
    await this.exclusive(() => this.stmt.insertSession.run(tokenHash, userId, expiresAt));
  }

  async sessionUser(tokenHash: string, now: number): Promise<UserRecord | null> {
    const row = this.stmt.session.get(tokenHash, now) as UserRow | undefined;
    return row ? this.toRecord(row) : null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.exclusive(() => this.stmt.deleteSession.run(tokenHash));
  }

  async deleteExpiredSessions(now: number): Promise<void> {
    await this.exclusive(() => this.stmt.deleteExpired.run(now));
  }

  async createApiToken(userId: number, tokenHash: string, now: number): Promise<void> {
    await this.exclusive(() => this.stmt.insertApiToken.run(tokenHash, userId, now));
  }

  async apiTokenUser(tokenHash: string): Promise<UserRecord | null> {
    const row = this.stmt.apiToken.get(tokenHash) as UserRow | undefined;
    return row ? this.toRecord(row) : null;
  }

  private writeGrants(id: number, grant: GrantRecord): void {
    if (grant.all) return;
    for (const d of grant.devices) this.stmt.grantDevice.run(id, d);
    for (const g of grant.groups) this.stmt.grantGroup.run(id, g);
  }

  private toRecord([id, name, role, allDevices]: UserRow): UserRecord {
    const all = allDevices === 1;
    return {
      id,
      name,
      role,
      grant: {
        all,
        devices: all ? [] : (this.stmt.deviceGrants.all(id) as string[]),
        groups: all ? [] : (this.stmt.groupGrants.all(id) as string[]),
      },
    };
  }
}
