import type { PushStore, PushSubscriptionRecord, VapidKeys } from "../ports.ts";
import {
  SUBSCRIPTION_COLUMNS,
  toSubscription,
  VAPID_PRIVATE,
  VAPID_PUBLIC,
  type SubscriptionColumns,
} from "../push-rows.ts";
import type { Db } from "./database.ts";
import type { Exclusive } from "./device-keys.ts";

/** The VAPID keys and browsers' push subscriptions in SQLite. */
export class SqlitePushStore implements PushStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
      key: db.prepare("SELECT value FROM server_keys WHERE name = ?").pluck(),
      addKey: db.prepare(
        "INSERT INTO server_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
      ),
      all: db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM push_subscriptions ORDER BY id`),
      ofUser: db.prepare(
        `SELECT ${SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = ? ORDER BY id`,
      ),
      one: db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE id = ?`),
      byEndpoint: db.prepare("SELECT id FROM push_subscriptions WHERE endpoint = ?").pluck(),
      insert: db
        .prepare(
          `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, label, created_at)
           VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
        )
        .pluck(),
      delete: db.prepare("DELETE FROM push_subscriptions WHERE id = ?"),
      deleteOutbox: db.prepare("DELETE FROM outbox WHERE channel = 'push' AND target_id = ?"),
    };
  }

  vapidKeys(made: VapidKeys): Promise<VapidKeys> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        this.stmt.addKey.run(VAPID_PUBLIC, made.publicKey);
        this.stmt.addKey.run(VAPID_PRIVATE, made.privateKey);
        return {
          publicKey: this.stmt.key.get(VAPID_PUBLIC) as string,
          privateKey: this.stmt.key.get(VAPID_PRIVATE) as string,
        };
      })(),
    );
  }

  async subscriptions(userId?: number): Promise<PushSubscriptionRecord[]> {
    const rows = (
      userId === undefined ? this.stmt.all.all() : this.stmt.ofUser.all(userId)
    ) as SubscriptionColumns[];
    return rows.map(toSubscription);
  }

  async subscription(id: number): Promise<PushSubscriptionRecord | null> {
    const row = this.stmt.one.get(id) as SubscriptionColumns | undefined;
    return row ? toSubscription(row) : null;
  }

  subscribe(
    sub: Omit<PushSubscriptionRecord, "id" | "createdAt">,
    now: number,
  ): Promise<PushSubscriptionRecord> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        const old = this.stmt.byEndpoint.get(sub.endpoint) as number | undefined;
        if (old !== undefined) this.drop(old);
        const { userId, endpoint, p256dh, auth, label } = sub;
        const id = this.stmt.insert.get(userId, endpoint, p256dh, auth, label, now) as number;
        return { ...sub, id, createdAt: now };
      })(),
    );
  }

  unsubscribe(id: number): Promise<boolean> {
    return this.exclusive(() => this.db.transaction(() => this.drop(id))());
  }

  private drop(id: number): boolean {
    this.stmt.deleteOutbox.run(id);
    return this.stmt.delete.run(id).changes === 1;
  }
}
