import type pg from "pg";
import type { Role } from "../../../protocol/index.ts";
import type { GrantRecord, UserRecord, UserStore } from "../ports.ts";
import { inTransaction } from "./database.ts";

interface UserRow {
  id: number;
  name: string;
  role: Role;
  all_devices: boolean;
  devices: string[];
  groups: string[];
}

/** A user with their grants, in one statement (the grants are empty for `all_devices`). */
const USER_SELECT = `
  SELECT u.id, u.name, u.role, u.all_devices,
         ARRAY(SELECT device_uid FROM user_devices WHERE user_id = u.id AND NOT u.all_devices
               ORDER BY device_uid)
           AS devices,
         ARRAY(SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id
               WHERE ug.user_id = u.id AND NOT u.all_devices ORDER BY g.name) AS groups`;

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    grant: { all: row.all_devices, devices: row.devices, groups: row.groups },
  };
}

/** Users, their grants, sessions and API tokens in PostgreSQL: every node sees the same. */
export class PgUserStore implements UserStore {
  constructor(private readonly pool: pg.Pool) {}

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>("SELECT count(*) AS n FROM users");
    return rows[0]!.n;
  }

  async list(): Promise<UserRecord[]> {
    const { rows } = await this.pool.query<UserRow>(`${USER_SELECT} FROM users u ORDER BY u.name`);
    return rows.map(toRecord);
  }

  async byName(name: string): Promise<(UserRecord & { passwordHash: string }) | null> {
    const { rows } = await this.pool.query<UserRow & { password_hash: string }>(
      `${USER_SELECT}, u.password_hash FROM users u WHERE u.name = $1`,
      [name],
    );
    return rows[0] ? { ...toRecord(rows[0]), passwordHash: rows[0].password_hash } : null;
  }

  create(
    user: { name: string; role: Role; grant: GrantRecord; passwordHash: string },
    now: number,
  ): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO users (name, password_hash, role, all_devices, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id`,
        [user.name, user.passwordHash, user.role, user.grant.all, now],
      );
      if (rows.length === 0) return false;
      await writeGrants(client, rows[0]!.id, user.grant);
      return true;
    });
  }

  setAccess(name: string, access: { role: Role; grant: GrantRecord }): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        "UPDATE users SET role = $1, all_devices = $2 WHERE name = $3 RETURNING id",
        [access.role, access.grant.all, name],
      );
      if (rows.length === 0) return false;
      const id = rows[0]!.id;
      await client.query("DELETE FROM user_devices WHERE user_id = $1", [id]);
      await client.query("DELETE FROM user_groups WHERE user_id = $1", [id]);
      await writeGrants(client, id, access.grant);
      return true;
    });
  }

  setPasswordHash(name: string, passwordHash: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        "UPDATE users SET password_hash = $1 WHERE name = $2 RETURNING id",
        [passwordHash, name],
      );
      if (rows.length === 0) return false;
      await client.query("DELETE FROM sessions WHERE user_id = $1", [rows[0]!.id]);
      return true;
    });
  }

  remove(name: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        "DELETE FROM users WHERE name = $1 RETURNING id",
        [name],
      );
      if (rows.length === 0) return false;
      await client.query(
        `DELETE FROM outbox
         WHERE (channel = 'webhook' AND target_id IN (SELECT id FROM webhooks WHERE user_id = $1))
            OR (channel = 'push'
                AND target_id IN (SELECT id FROM push_subscriptions WHERE user_id = $1))`,
        [rows[0]!.id],
      );
      for (const table of [
        "user_devices",
        "user_groups",
        "sessions",
        "api_tokens",
        "webhooks",
        "rules",
        "push_subscriptions",
      ]) {
        await client.query(`DELETE FROM ${table} WHERE user_id = $1`, [rows[0]!.id]);
      }
      return true;
    });
  }

  async createSession(userId: number, tokenHash: string, expiresAt: number): Promise<void> {
    await this.pool.query(
      "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
      [tokenHash, userId, expiresAt],
    );
  }

  async sessionUser(tokenHash: string, now: number): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRow>(
      `${USER_SELECT} FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND s.expires_at > $2`,
      [tokenHash, now],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.pool.query("DELETE FROM sessions WHERE token_hash = $1", [tokenHash]);
  }

  async deleteExpiredSessions(now: number): Promise<void> {
    await this.pool.query("DELETE FROM sessions WHERE expires_at <= $1", [now]);
  }

  async createApiToken(userId: number, tokenHash: string, now: number): Promise<void> {
    await this.pool.query(
      "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
      [tokenHash, userId, now],
    );
  }

  async apiTokenUser(tokenHash: string): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRow>(
      `${USER_SELECT} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }
}

async function writeGrants(client: pg.PoolClient, id: number, grant: GrantRecord): Promise<void> {
  if (grant.all) return;
  await client.query(
    `INSERT INTO user_devices (user_id, device_uid) SELECT $1, unnest($2::text[])
     ON CONFLICT DO NOTHING`,
    [id, grant.devices],
  );
  await client.query(
    `INSERT INTO user_groups (user_id, group_id) SELECT $1, id FROM groups WHERE name = ANY($2::text[])
     ON CONFLICT DO NOTHING`,
    [id, grant.groups],
  );
}
