import type { FleetEvent } from "../../../protocol/geofence.ts";
import type { RuleChange, RuleFields } from "../../../protocol/notifications.ts";
import {
  CURSOR_NAME,
  OUTBOX_COLUMNS,
  RULE_COLUMNS,
  ruleColumns,
  toOutbox,
  toRule,
  toWebhook,
  WEBHOOK_COLUMNS,
  type OutboxColumns,
  type RuleColumns,
  type WebhookColumns,
} from "../notification-rows.ts";
import type {
  AttemptOutcome,
  NewOutboxRow,
  NotificationStore,
  OutboxRow,
  RuleRecord,
  WebhookRecord,
} from "../ports.ts";
import type { Db } from "./database.ts";
import type { Exclusive } from "./device-keys.ts";
import { EVENT_COLUMNS, toEvent, type EventRow } from "./events.ts";

/**
 * Webhooks, notification rules and the outbox in SQLite. Every write runs between the storage
 * worker's transactions; events commit in id order (one writer), so a cursor over their ids
 * misses none.
 */
export class SqliteNotificationStore implements NotificationStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly exclusive: Exclusive,
  ) {
    this.stmt = {
      allWebhooks: db.prepare(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks ORDER BY id`),
      userWebhooks: db.prepare(
        `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = ? ORDER BY id`,
      ),
      webhook: db.prepare(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`),
      insertWebhook: db
        .prepare(
          "INSERT INTO webhooks (user_id, url, secret, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .pluck(),
      deleteWebhook: db.prepare("DELETE FROM webhooks WHERE id = ?"),
      deleteWebhookOutbox: db.prepare(
        "DELETE FROM outbox WHERE channel = 'webhook' AND target_id = ?",
      ),
      allRules: db.prepare(`SELECT ${RULE_COLUMNS} FROM rules ORDER BY id`),
      userRules: db.prepare(`SELECT ${RULE_COLUMNS} FROM rules WHERE user_id = ? ORDER BY id`),
      rule: db.prepare(`SELECT ${RULE_COLUMNS} FROM rules WHERE id = ?`),
      insertRule: db
        .prepare(
          `INSERT INTO rules (user_id, name, types, devices, groups, geofences, hours, webhooks,
                              push, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        )
        .pluck(),
      setRuleWebhooks: db.prepare("UPDATE rules SET webhooks = ? WHERE id = ?"),
      deleteRule: db.prepare("DELETE FROM rules WHERE id = ?"),
      cursor: db.prepare("SELECT event_id FROM fanout_cursor WHERE name = ?").pluck(),
      startCursor: db.prepare(
        `INSERT INTO fanout_cursor (name, event_id)
         SELECT ?, coalesce(max(id), 0) FROM events WHERE true
         ON CONFLICT (name) DO NOTHING`,
      ),
      moveCursor: db.prepare("UPDATE fanout_cursor SET event_id = max(event_id, ?) WHERE name = ?"),
      eventsAfter: db
        .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?`)
        .raw(),
      insertOutbox: db.prepare(
        `INSERT INTO outbox (channel, target_id, event_id, event_type, device_uid, body, next_at,
                             status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
         ON CONFLICT (channel, target_id, event_id) DO NOTHING`,
      ),
      due: db.prepare(
        `SELECT ${OUTBOX_COLUMNS} FROM outbox
         WHERE id IN (SELECT min(id) FROM outbox WHERE status = 'pending'
                      GROUP BY channel, target_id, device_uid)
           AND next_at <= ?
         ORDER BY id LIMIT ?`,
      ),
      nextDue: db
        .prepare(
          `SELECT min(next_at) FROM outbox
           WHERE id IN (SELECT min(id) FROM outbox WHERE status = 'pending'
                        GROUP BY channel, target_id, device_uid)`,
        )
        .pluck(),
      settle: db.prepare(
        `UPDATE outbox SET attempts = attempts + 1, status = ?, next_at = ?, last_status = ?,
                           last_error = ?, delivered_at = ?
         WHERE id = ? AND status = 'pending'`,
      ),
      abandon: db.prepare(
        "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ? AND status = 'pending'",
      ),
      expire: db.prepare(
        `UPDATE outbox SET status = 'failed', last_error = coalesce(last_error || '; ', '') || ?
         WHERE status = 'pending' AND created_at < ?`,
      ),
      purge: db.prepare("DELETE FROM outbox WHERE status <> 'pending' AND created_at < ?"),
      deliveries: db.prepare(
        `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE channel = 'webhook' AND target_id = ?
         ORDER BY id DESC LIMIT ?`,
      ),
    };
  }

  async webhooks(userId?: number): Promise<WebhookRecord[]> {
    const rows = (
      userId === undefined ? this.stmt.allWebhooks.all() : this.stmt.userWebhooks.all(userId)
    ) as WebhookColumns[];
    return rows.map(toWebhook);
  }

  async webhook(id: number): Promise<WebhookRecord | null> {
    const row = this.stmt.webhook.get(id) as WebhookColumns | undefined;
    return row ? toWebhook(row) : null;
  }

  createWebhook(
    webhook: { userId: number; url: string; secret: string },
    now: number,
  ): Promise<WebhookRecord> {
    const { userId, url, secret } = webhook;
    return this.exclusive(() => {
      const id = this.stmt.insertWebhook.get(userId, url, secret, now) as number;
      return { id, userId, url, secret, createdAt: now };
    });
  }

  removeWebhook(id: number): Promise<boolean> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        const hook = this.stmt.webhook.get(id) as WebhookColumns | undefined;
        if (!hook) return false;
        this.stmt.deleteWebhookOutbox.run(id);
        this.stmt.deleteWebhook.run(id);
        for (const rule of (this.stmt.userRules.all(hook.user_id) as RuleColumns[]).map(toRule)) {
          if (!rule.webhooks.includes(id)) continue;
          const rest = rule.webhooks.filter((w) => w !== id);
          this.stmt.setRuleWebhooks.run(JSON.stringify(rest), rule.id);
        }
        return true;
      })(),
    );
  }

  async rules(userId?: number): Promise<RuleRecord[]> {
    const rows = (
      userId === undefined ? this.stmt.allRules.all() : this.stmt.userRules.all(userId)
    ) as RuleColumns[];
    return rows.map(toRule);
  }

  async rule(id: number): Promise<RuleRecord | null> {
    const row = this.stmt.rule.get(id) as RuleColumns | undefined;
    return row ? toRule(row) : null;
  }

  createRule(rule: RuleFields & { userId: number }, now: number): Promise<RuleRecord> {
    return this.exclusive(() => {
      const id = this.stmt.insertRule.get(
        rule.userId,
        rule.name,
        JSON.stringify(rule.types),
        JSON.stringify(rule.devices),
        JSON.stringify(rule.groups),
        JSON.stringify(rule.geofences),
        rule.hours === null ? null : JSON.stringify(rule.hours),
        JSON.stringify(rule.webhooks),
        rule.push ? 1 : 0,
        now,
        now,
      ) as number;
      return { ...rule, id, createdAt: now, updatedAt: now };
    });
  }

  updateRule(id: number, fields: RuleChange, now: number): Promise<RuleRecord | null> {
    const set = ruleColumns(fields);
    if (set.length === 0) return this.rule(id);
    set.push(["updated_at", now]);
    return this.exclusive(() => {
      const row = this.db
        .prepare(
          `UPDATE rules SET ${set.map(([c]) => `${c} = ?`).join(", ")} WHERE id = ?
           RETURNING ${RULE_COLUMNS}`,
        )
        .get(...set.map(([, v]) => v), id) as RuleColumns | undefined;
      return row ? toRule(row) : null;
    });
  }

  removeRule(id: number): Promise<boolean> {
    return this.exclusive(() => this.stmt.deleteRule.run(id).changes === 1);
  }

  async unsentEvents(limit: number): Promise<FleetEvent[]> {
    let cursor = this.stmt.cursor.get(CURSOR_NAME) as number | undefined;
    if (cursor === undefined) {
      await this.exclusive(() => this.stmt.startCursor.run(CURSOR_NAME));
      cursor = this.stmt.cursor.get(CURSOR_NAME) as number;
    }
    return (this.stmt.eventsAfter.all(cursor, limit) as EventRow[]).map(toEvent);
  }

  enqueue(rows: readonly NewOutboxRow[], upTo: number, now: number): Promise<number> {
    return this.exclusive(() =>
      this.db.transaction(() => {
        let added = 0;
        for (const r of rows) {
          added += this.stmt.insertOutbox.run(
            r.channel,
            r.targetId,
            r.eventId,
            r.eventType,
            r.deviceId,
            r.body,
            now,
            now,
          ).changes;
        }
        this.stmt.startCursor.run(CURSOR_NAME);
        this.stmt.moveCursor.run(upTo, CURSOR_NAME);
        return added;
      })(),
    );
  }

  async due(now: number, limit: number): Promise<OutboxRow[]> {
    return (this.stmt.due.all(now, limit) as OutboxColumns[]).map(toOutbox);
  }

  async nextDue(): Promise<number | null> {
    return (this.stmt.nextDue.get() as number | null) ?? null;
  }

  async settle(attempts: readonly { id: number; outcome: AttemptOutcome }[]): Promise<void> {
    if (attempts.length === 0) return;
    await this.exclusive(() =>
      this.db.transaction(() => {
        for (const { id, outcome } of attempts) {
          const { status, nextAt, lastStatus, lastError, deliveredAt } = outcome;
          this.stmt.settle.run(status, nextAt, lastStatus, lastError, deliveredAt, id);
        }
      })(),
    );
  }

  async abandon(ids: readonly number[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.exclusive(() =>
      this.db.transaction(() => {
        for (const id of ids) this.stmt.abandon.run(reason, id);
      })(),
    );
  }

  expire(createdBefore: number, reason: string): Promise<number> {
    return this.exclusive(() => this.stmt.expire.run(reason, createdBefore).changes);
  }

  purge(createdBefore: number): Promise<number> {
    return this.exclusive(() => this.stmt.purge.run(createdBefore).changes);
  }

  async deliveries(webhookId: number, limit: number): Promise<OutboxRow[]> {
    return (this.stmt.deliveries.all(webhookId, limit) as OutboxColumns[]).map(toOutbox);
  }
}
