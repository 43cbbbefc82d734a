import type pg from "pg";
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
import { inTransaction } from "./database.ts";
import { EVENT_COLUMNS, toEvent, type EventRow } from "./events.ts";

const START_CURSOR = `
  INSERT INTO fanout_cursor (name, event_id)
  SELECT $1, coalesce(max(id), 0) FROM events
  ON CONFLICT (name) DO NOTHING`;

/**
 * Webhooks, notification rules and the outbox in PostgreSQL. Only the node that leads background
 * work fans out and delivers; event ids become visible in order because PgEventStore takes a lock
 * around each insert of events (see there), so the cursor over them skips none.
 */
export class PgNotificationStore implements NotificationStore {
  /** The cursor's row exists (it is made on the first fan-out, then never removed). */
  private cursorStarted = false;

  constructor(private readonly pool: pg.Pool) {}

  async webhooks(userId?: number): Promise<WebhookRecord[]> {
    const { rows } =
      userId === undefined
        ? await this.pool.query<WebhookColumns>(
            `SELECT ${WEBHOOK_COLUMNS} FROM webhooks ORDER BY id`,
          )
        : await this.pool.query<WebhookColumns>(
            `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY id`,
            [userId],
          );
    return rows.map(toWebhook);
  }

  async webhook(id: number): Promise<WebhookRecord | null> {
    const { rows } = await this.pool.query<WebhookColumns>(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`,
      [id],
    );
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async createWebhook(
    webhook: { userId: number; url: string; secret: string },
    now: number,
  ): Promise<WebhookRecord> {
    const { userId, url, secret } = webhook;
    const { rows } = await this.pool.query<{ id: number }>(
      "INSERT INTO webhooks (user_id, url, secret, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
      [userId, url, secret, now],
    );
    return { id: rows[0]!.id, userId, url, secret, createdAt: now };
  }

  removeWebhook(id: number): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ user_id: number }>(
        "DELETE FROM webhooks WHERE id = $1 RETURNING user_id",
        [id],
      );
      if (rows.length === 0) return false;
      await client.query("DELETE FROM outbox WHERE channel = 'webhook' AND target_id = $1", [id]);
      const { rows: rules } = await client.query<RuleColumns>(
        `SELECT ${RULE_COLUMNS} FROM rules WHERE user_id = $1 ORDER BY id FOR UPDATE`,
        [rows[0]!.user_id],
      );
      for (const rule of rules.map(toRule)) {
        if (!rule.webhooks.includes(id)) continue;
        await client.query("UPDATE rules SET webhooks = $1 WHERE id = $2", [
          JSON.stringify(rule.webhooks.filter((w) => w !== id)),
          rule.id,
        ]);
      }
      return true;
    });
  }

  async rules(userId?: number): Promise<RuleRecord[]> {
    const { rows } =
      userId === undefined
        ? await this.pool.query<RuleColumns>(`SELECT ${RULE_COLUMNS} FROM rules ORDER BY id`)
        : await this.pool.query<RuleColumns>(
            `SELECT ${RULE_COLUMNS} FROM rules WHERE user_id = $1 ORDER BY id`,
            [userId],
          );
    return rows.map(toRule);
  }

  async rule(id: number): Promise<RuleRecord | null> {
    const { rows } = await this.pool.query<RuleColumns>(
      `SELECT ${RULE_COLUMNS} FROM rules WHERE id = $1`,
      [id],
    );
    return rows[0] ? toRule(rows[0]) : null;
  }

  async createRule(rule: RuleFields & { userId: number }, now: number): Promise<RuleRecord> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO rules (user_id, name, types, devices, groups, geofences, hours, webhooks,
                          push, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
      [
        rule.userId,
        rule.name,
        JSON.stringify(rule.types),
        JSON.stringify(rule.devices),
        JSON.stringify(rule.groups),
        JSON.stringify(rule.geofences),
        rule.hours === null ? null : JSON.stringify(rule.hours),
        JSON.stringify(rule.webhooks),
        rule.push,
        now,
      ],
    );
    return { ...rule, id: rows[0]!.id, createdAt: now, updatedAt: now };
  }

  async updateRule(id: number, fields: RuleChange, now: number): Promise<RuleRecord | null> {
    const set = ruleColumns(fields);
    if (set.length === 0) return this.rule(id);
    set.push(["updated_at", now]);
    const { rows } = await this.pool.query<RuleColumns>(
      `UPDATE rules SET ${set.map(([c], i) => `${c} = $${i + 1}`).join(", ")}
       WHERE id = $${set.length + 1} RETURNING ${RULE_COLUMNS}`,
      [...set.map(([, v]) => v), id],
    );
    return rows[0] ? toRule(rows[0]) : null;
  }

  async removeRule(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query("DELETE FROM rules WHERE id = $1", [id]);
    return rowCount === 1;
  }

  async unsentEvents(limit: number): Promise<FleetEvent[]> {
    if (!this.cursorStarted) {
      await this.pool.query(START_CURSOR, [CURSOR_NAME]);
      this.cursorStarted = true;
    }
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE id > (SELECT event_id FROM fanout_cursor WHERE name = $1)
       ORDER BY id LIMIT $2`,
      [CURSOR_NAME, limit],
    );
    return rows.map(toEvent);
  }

  enqueue(rows: readonly NewOutboxRow[], upTo: number, now: number): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      let added = 0;
      if (rows.length > 0) {
        const result = await client.query(
          `INSERT INTO outbox (channel, target_id, event_id, event_type, device_uid, body, next_at,
                               status, created_at)
           SELECT c, w, e, t, d, b, $7::bigint, 'pending', $7::bigint
           FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
                WITH ORDINALITY AS r(c, w, e, t, d, b, n)
           ORDER BY n
           ON CONFLICT (channel, target_id, event_id) DO NOTHING`,
          [
            rows.map((r) => r.channel),
            rows.map((r) => r.targetId),
            rows.map((r) => r.eventId),
            rows.map((r) => r.eventType),
            rows.map((r) => r.deviceId),
            rows.map((r) => r.body),
            now,
          ],
        );
        added = result.rowCount ?? 0;
      }
      await client.query(START_CURSOR, [CURSOR_NAME]);
      await client.query(
        "UPDATE fanout_cursor SET event_id = greatest(event_id, $1) WHERE name = $2",
        [upTo, CURSOR_NAME],
      );
      return added;
    });
  }

  async due(now: number, limit: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxColumns>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox
       WHERE id IN (SELECT min(id) FROM outbox WHERE status = 'pending'
                    GROUP BY channel, target_id, device_uid)
         AND next_at <= $1
       ORDER BY id LIMIT $2`,
      [now, limit],
    );
    return rows.map(toOutbox);
  }

  async nextDue(): Promise<number | null> {
    const { rows } = await this.pool.query<{ at: number | null }>(
      `SELECT min(next_at) AS at FROM outbox
       WHERE id IN (SELECT min(id) FROM outbox WHERE status = 'pending'
                    GROUP BY channel, target_id, device_uid)`,
    );
    return rows[0]?.at ?? null;
  }

  async settle(attempts: readonly { id: number; outcome: AttemptOutcome }[]): Promise<void> {
    if (attempts.length === 0) return;
    const column = <T>(pick: (o: AttemptOutcome) => T) => attempts.map((a) => pick(a.outcome));
    await this.pool.query(
      `UPDATE outbox o SET attempts = o.attempts + 1, status = a.status, next_at = a.next_at,
                           last_status = a.last_status, last_error = a.last_error,
                           delivered_at = a.delivered_at
       FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::bigint[])
            AS a(id, status, next_at, last_status, last_error, delivered_at)
       WHERE o.id = a.id AND o.status = 'pending'`,
      [
        attempts.map((a) => a.id),
        column((o) => o.status),
        column((o) => o.nextAt),
        column((o) => o.lastStatus),
        column((o) => o.lastError),
        column((o) => o.deliveredAt),
      ],
    );
  }

  async abandon(ids: readonly number[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `UPDATE outbox SET status = 'failed', last_error = $1
       WHERE id = ANY($2::bigint[]) AND status = 'pending'`,
      [reason, ids],
    );
  }

  async expire(createdBefore: number, reason: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE outbox SET status = 'failed', last_error = coalesce(last_error || '; ', '') || $1
       WHERE status = 'pending' AND created_at < $2`,
      [reason, createdBefore],
    );
    return rowCount ?? 0;
  }

  async purge(createdBefore: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      "DELETE FROM outbox WHERE status <> 'pending' AND created_at < $1",
      [createdBefore],
    );
    return rowCount ?? 0;
  }

  async deliveries(webhookId: number, limit: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxColumns>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE channel = 'webhook' AND target_id = $1
       ORDER BY id DESC LIMIT $2`,
      [webhookId, limit],
    );
    return rows.map(toOutbox);
  }
}
