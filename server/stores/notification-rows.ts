import type { EventType } from "../../protocol/geofence.ts";
import type { DeliveryStatus, RuleChange, RuleHours } from "../../protocol/notifications.ts";
import type { Channel, OutboxRow, RuleRecord, WebhookRecord } from "./ports.ts";

/**
 * Rows of the notification tables as both stores read them (columns by name; BIGINTs already
 * numbers), and the ports' records made of them: one mapping, so the two stores cannot drift.
 */

export interface WebhookColumns {
  id: number;
  user_id: number;
  url: string;
  secret: string;
  created_at: number;
}

export const WEBHOOK_COLUMNS = "id, user_id, url, secret, created_at";

export const toWebhook = (r: WebhookColumns): WebhookRecord => ({
  id: r.id,
  userId: r.user_id,
  url: r.url,
  secret: r.secret,
  createdAt: r.created_at,
});

export interface RuleColumns {
  id: number;
  user_id: number;
  name: string;
  types: string;
  devices: string;
  groups: string;
  geofences: string;
  hours: string | null;
  webhooks: string;
  /** 0/1 from SQLite, a boolean from PostgreSQL. */
  push: number | boolean;
  created_at: number;
  updated_at: number;
}

export const RULE_COLUMNS =
  "id, user_id, name, types, devices, groups, geofences, hours, webhooks, push, created_at, updated_at";

export const toRule = (r: RuleColumns): RuleRecord => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  types: JSON.parse(r.types) as EventType[],
  devices: JSON.parse(r.devices) as string[],
  groups: JSON.parse(r.groups) as string[],
  geofences: JSON.parse(r.geofences) as number[],
  hours: r.hours === null ? null : (JSON.parse(r.hours) as RuleHours),
  webhooks: JSON.parse(r.webhooks) as number[],
  push: Boolean(r.push),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A rule's changed fields as column values (JSON text for the lists). */
export function ruleColumns(fields: RuleChange): [column: string, value: unknown][] {
  const set: [string, unknown][] = [];
  if (fields.name !== undefined) set.push(["name", fields.name]);
  for (const key of ["types", "devices", "groups", "geofences", "webhooks"] as const) {
    if (fields[key] !== undefined) set.push([key, JSON.stringify(fields[key])]);
  }
  // 0/1: better-sqlite3 binds no booleans, and PostgreSQL reads '1' and '0' as booleans.
  if (fields.push !== undefined) set.push(["push", fields.push ? 1 : 0]);
  if (fields.hours !== undefined) {
    set.push(["hours", fields.hours === null ? null : JSON.stringify(fields.hours)]);
  }
  return set;
}

export interface OutboxColumns {
  id: number;
  channel: Channel;
  target_id: number;
  event_id: number;
  event_type: EventType;
  device_uid: string;
  body: string;
  attempts: number;
  next_at: number;
  status: DeliveryStatus;
  last_error: string | null;
  last_status: number | null;
  created_at: number;
  delivered_at: number | null;
}

export const OUTBOX_COLUMNS =
  "id, channel, target_id, event_id, event_type, device_uid, body, attempts, next_at, status, last_error, last_status, created_at, delivered_at";

export const toOutbox = (r: OutboxColumns): OutboxRow => ({
  id: r.id,
  channel: r.channel,
  targetId: r.target_id,
  eventId: r.event_id,
  eventType: r.event_type,
  deviceId: r.device_uid,
  body: r.body,
  attempts: r.attempts,
  nextAt: r.next_at,
  status: r.status,
  lastError: r.last_error,
  lastStatus: r.last_status,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

/** The cursor's row in fanout_cursor. */
export const CURSOR_NAME = "notifications";
