import argon2 from "argon2";
import {
  effectiveGrant,
  type AdminUser,
  type DeviceGrant,
  type Role,
} from "../../protocol/index.ts";
import type { Db } from "./database.ts";
import { hash, newSecret } from "./secrets.ts";

/** A signed-in person: who, what they may do, and which devices they may see. */
export interface User {
  id: number;
  name: string;
  role: Role;
  /** "all", or the device ids granted. Admins always see all. */
  devices: "all" | ReadonlySet<string>;
}

export class DuplicateUser extends Error {}

type UserRow = [id: number, name: string, role: Role, allDevices: number];

const USER_COLUMNS = "u.id, u.name, u.role, u.all_devices";

/** Users, their device grants, sessions and API tokens: the only SQL about people. */
export class UserStore {
  private readonly stmt;
  /** Compared against when a name is unknown, so a wrong name costs as long as a wrong password. */
  private readonly decoyHash = argon2.hash("decoy password");

  constructor(private readonly db: Db) {
    this.stmt = {
      count: db.prepare("SELECT count(*) FROM users").pluck(),
      insert: db.prepare(
        "INSERT INTO users (name, password_hash, role, all_devices, created_at) VALUES (?, ?, ?, ?, ?)",
      ),
      grant: db.prepare("INSERT OR IGNORE INTO user_devices (user_id, device_uid) VALUES (?, ?)"),
      grants: db.prepare("SELECT device_uid FROM user_devices WHERE user_id = ?").pluck(),
      byName: db
        .prepare(`SELECT ${USER_COLUMNS}, u.password_hash FROM users u WHERE u.name = ?`)
        .raw(),
      all: db.prepare(`SELECT ${USER_COLUMNS} FROM users u ORDER BY u.name`).raw(),
      idByName: db.prepare("SELECT id FROM users WHERE name = ?").pluck(),
      setPassword: db.prepare("UPDATE users SET password_hash = ? WHERE id = ?"),
      setAccess: db.prepare("UPDATE users SET role = ?, all_devices = ? WHERE id = ?"),
      deleteUser: db.prepare("DELETE FROM users WHERE id = ?"),
      deleteGrants: db.prepare("DELETE FROM user_devices WHERE user_id = ?"),
      deleteSessions: db.prepare("DELETE FROM sessions WHERE user_id = ?"),
      deleteApiTokens: db.prepare("DELETE FROM api_tokens WHERE user_id = ?"),
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
          `SELECT ${USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`,
        )
        .raw(),
    };
  }

  count(): number {
    return this.stmt.count.get() as number;
  }

  /** Replace a user's role and device grants. False if there is no such user. */
  setAccess(name: string, access: { role: Role; devices: DeviceGrant }): boolean {
    const id = this.idOf(name);
    if (id === null) return false;
    const devices = effectiveGrant(access.role, access.devices);
    this.db.transaction(() => {
      this.stmt.setAccess.run(access.role, devices === "all" ? 1 : 0, id);
      this.stmt.deleteGrants.run(id);
      if (devices !== "all") for (const d of devices) this.stmt.grant.run(id, d);
    })();
    return true;
  }

  async create(user: {
    name: string;
    role: Role;
    devices: DeviceGrant;
    password: string;
  }): Promise<void> {
    const passwordHash = await argon2.hash(user.password, { type: argon2.argon2id });
    const devices = effectiveGrant(user.role, user.devices);
    this.db.transaction(() => {
      let id: number;
      try {
        const all = devices === "all" ? 1 : 0;
        id = Number(
          this.stmt.insert.run(user.name, passwordHash, user.role, all, Date.now()).lastInsertRowid,
        );
      } catch (err) {
        if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
          throw new DuplicateUser(`a user named "${user.name}" already exists`);
        }
        throw err;
      }
      if (devices !== "all") for (const d of devices) this.stmt.grant.run(id, d);
    })();
  }

  /** The user's key, or null when no user has that name. */
  idOf(name: string): number | null {
    return (this.stmt.idByName.get(name) as number | undefined) ?? null;
  }

  /**
   * A new password, and every browser session of the user ends (a reset usually means the old one
   * leaked). API tokens are credentials of their own and stay. False if there is no such user.
   */
  async setPassword(name: string, password: string): Promise<boolean> {
    const passwordHash = await argon2.hash(password, { type: argon2.argon2id });
    // Looked up after hashing: the user may have been removed meanwhile.
    const id = this.idOf(name);
    if (id === null) return false;
    this.db.transaction(() => {
      this.stmt.setPassword.run(passwordHash, id);
      this.stmt.deleteSessions.run(id);
    })();
    return true;
  }

  /** Remove the user with their grants, sessions and API tokens. False if there is no such user. */
  remove(name: string): boolean {
    const id = this.idOf(name);
    if (id === null) return false;
    this.db.transaction(() => {
      for (const stmt of [
        this.stmt.deleteGrants,
        this.stmt.deleteSessions,
        this.stmt.deleteApiTokens,
        this.stmt.deleteUser,
      ]) {
        stmt.run(id);
      }
    })();
    return true;
  }

  /** The user if the password is right, else null; takes as long either way. */
  async verifyPassword(name: string, password: string): Promise<User | null> {
    const row = this.stmt.byName.get(name) as [...UserRow, string] | undefined;
    const ok = await argon2
      .verify(row ? row[4] : await this.decoyHash, password)
      .catch(() => false);
    return row && ok ? this.toUser(row.slice(0, 4) as UserRow) : null;
  }

  list(): AdminUser[] {
    return (this.stmt.all.all() as UserRow[]).map((row) => {
      const user = this.toUser(row);
      return {
        name: user.name,
        role: user.role,
        devices: user.devices === "all" ? "all" : [...user.devices],
      };
    });
  }

  createSession(userId: number, expiresAt: number): string {
    const token = newSecret("lcs_");
    this.stmt.insertSession.run(hash(token), userId, expiresAt);
    return token;
  }

  sessionUser(token: string, now: number): User | null {
    const row = this.stmt.session.get(hash(token), now) as UserRow | undefined;
    return row ? this.toUser(row) : null;
  }

  deleteSession(token: string): void {
    this.stmt.deleteSession.run(hash(token));
  }

  deleteExpiredSessions(now: number): void {
    this.stmt.deleteExpired.run(now);
  }

  /** A long-lived bearer token for scripts, acting as the user. Shown once. */
  createApiToken(userName: string): string | null {
    const row = this.stmt.byName.get(userName) as [...UserRow, string] | undefined;
    if (!row) return null;
    const token = newSecret("lca_");
    this.stmt.insertApiToken.run(hash(token), row[0], Date.now());
    return token;
  }

  apiTokenUser(token: string): User | null {
    const row = this.stmt.apiToken.get(hash(token)) as UserRow | undefined;
    return row ? this.toUser(row) : null;
  }

  private toUser([id, name, role, allDevices]: UserRow): User {
    const devices = allDevices ? "all" : new Set(this.stmt.grants.all(id) as string[]);
    return { id, name, role, devices };
  }
}

/** Whether a user may see a device. */
export function canSee(user: User, deviceId: string): boolean {
  return user.devices === "all" || user.devices.has(deviceId);
}
