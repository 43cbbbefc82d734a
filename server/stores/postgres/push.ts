import type pg from "pg";
import type { PushStore, PushSubscriptionRecord, VapidKeys } from "../ports.ts";
import {
  SUBSCRIPTION_COLUMNS,
  toSubscription,
  VAPID_PRIVATE,
  VAPID_PUBLIC,
  type SubscriptionColumns,
} from "../push-rows.ts";
import { inTransaction } from "./database.ts";

/** The VAPID keys and browsers' push subscriptions in PostgreSQL, shared by the cluster. */
export class PgPushStore implements PushStore {
  constructor(private readonly pool: pg.Pool) {}

  async vapidKeys(made: VapidKeys): Promise<VapidKeys> {
    // Both rows in one statement: a racing node either sees both or adds both; the loser's
    // pair is dropped as a whole, never mixed with the winner's.
    await this.pool.query(
      `INSERT INTO server_keys (name, value) VALUES ($1, $2), ($3, $4)
       ON CONFLICT (name) DO NOTHING`,
      [VAPID_PUBLIC, made.publicKey, VAPID_PRIVATE, made.privateKey],
    );
    const { rows } = await this.pool.query<{ name: string; value: string }>(
      "SELECT name, value FROM server_keys WHERE name = ANY($1::text[])",
      [[VAPID_PUBLIC, VAPID_PRIVATE]],
    );
    const value = (name: string) => rows.find((r) => r.name === name)!.value;
    return { publicKey: value(VAPID_PUBLIC), privateKey: value(VAPID_PRIVATE) };
  }

  async subscriptions(userId?: number): Promise<PushSubscriptionRecord[]> {
    const { rows } =
      userId === undefined
        ? await this.pool.query<SubscriptionColumns>(
            `SELECT ${SUBSCRIPTION_COLUMNS} FROM push_subscriptions ORDER BY id`,
          )
        : await this.pool.query<SubscriptionColumns>(
            `SELECT ${SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY id`,
            [userId],
          );
    return rows.map(toSubscription);
  }

  async subscription(id: number): Promise<PushSubscriptionRecord | null> {
    const { rows } = await this.pool.query<SubscriptionColumns>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE id = $1`,
      [id],
    );
    return rows[0] ? toSubscription(rows[0]) : null;
  }

  subscribe(
    sub: Omit<PushSubscriptionRecord, "id" | "createdAt">,
    now: number,
  ): Promise<PushSubscriptionRecord> {
    return inTransaction(this.pool, async (client) => {
      const { rows: old } = await client.query<{ id: number }>(
        "DELETE FROM push_subscriptions WHERE endpoint = $1 RETURNING id",
        [sub.endpoint],
      );
      if (old[0]) {
        await client.query("DELETE FROM outbox WHERE channel = 'push' AND target_id = $1", [
          old[0].id,
        ]);
      }
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, label, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [sub.userId, sub.endpoint, sub.p256dh, sub.auth, sub.label, now],
      );
      return { ...sub, id: rows[0]!.id, createdAt: now };
    });
  }

  unsubscribe(id: number): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      await client.query("DELETE FROM outbox WHERE channel = 'push' AND target_id = $1", [id]);
      const { rowCount } = await client.query("DELETE FROM push_subscriptions WHERE id = $1", [id]);
      return rowCount === 1;
    });
  }
}
