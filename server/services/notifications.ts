import { createHmac, randomBytes } from "node:crypto";
import type { FleetEvent } from "../../protocol/geofence.ts";
import {
  EVENT_HEADER,
  IDEMPOTENCY_HEADER,
  MAX_RULES_PER_USER,
  MAX_WEBHOOKS_PER_USER,
  newRuleSchema,
  newWebhookSchema,
  NO_CHANNEL,
  ruleChangeSchema,
  SIGNATURE_HEADER,
  type Delivery,
  type NotificationRule,
  type RuleChange,
  type RuleHours,
  type Webhook,
  type WebhookBody,
  type WebhookTestResult,
} from "../../protocol/notifications.ts";
import type { Clock } from "../clock.ts";
import type { NotificationStore, OutboxRow, RuleRecord, WebhookRecord } from "../stores/ports.ts";
import type { WebhookSender } from "../webhooks/http-sender.ts";
import type { AccessService, User } from "./access.ts";
import type { DeviceService } from "./devices.ts";
import { badRequest, conflict, notFound, parseRequest } from "./errors.ts";
import type { GeofenceService } from "./geofences.ts";
import { newSecret } from "./secrets.ts";

/** One attempt's time limit. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** `sha256=` and the hex HMAC-SHA256 of the body, keyed with the webhook's secret. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** The headers of a webhook request: the same on every attempt of one event. */
export function webhookHeaders(
  secret: string,
  body: string,
  type: string,
  key: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    [SIGNATURE_HEADER.toLowerCase()]: sign(secret, body),
    [EVENT_HEADER.toLowerCase()]: type,
    [IDEMPOTENCY_HEADER.toLowerCase()]: key,
  };
}

/** The body of an event's requests, made once and stored, so every retry sends the same bytes. */
export function webhookBody(event: FleetEvent, device: { id: string; name: string | null }) {
  const body: WebhookBody = { id: event.id, event, device };
  return JSON.stringify(body);
}

// ---- which rules an event meets ----------------------------------------------------------

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const formats = new Map<string, Intl.DateTimeFormat>();

/** The ISO day of the week (1 Monday … 7 Sunday) and minute of the day at `ts` in a zone. */
export function localTime(ts: number, timeZone: string): { day: number; minute: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formats.set(timeZone, format);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(ts)) {
    if (part.type === "weekday") day = WEEKDAYS.indexOf(part.value) + 1;
    else if (part.type === "hour") hour = Number(part.value);
    else if (part.type === "minute") minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether `ts` falls in the rule's hours. A window that ends before it starts runs past midnight
 * and belongs to the day it starts on (Friday 22:00–06:00 includes Saturday 03:00).
 */
export function withinHours(hours: RuleHours, ts: number): boolean {
  const { day, minute } = localTime(ts, hours.timeZone);
  const from = minutes(hours.from);
  const to = minutes(hours.to);
  if (from < to) return minute >= from && minute < to && hours.days.includes(day);
  if (minute >= from) return hours.days.includes(day);
  if (minute < to) return hours.days.includes(day === 1 ? 7 : day - 1);
  return false;
}

/**
 * Whether an event meets a rule: its type, its device (named, or a member of a named group; none
 * named: any), its fence (none named: any event) and its time. Who may see the device is asked
 * separately (the rule's owner, at fan-out time).
 */
export function ruleMatches(
  rule: Pick<NotificationRule, "types" | "devices" | "groups" | "geofences" | "hours">,
  event: FleetEvent,
  groupsOf: (deviceId: string) => readonly string[],
): boolean {
  if (rule.types.length > 0 && !rule.types.includes(event.type)) return false;
  if (rule.devices.length > 0 || rule.groups.length > 0) {
    const named =
      rule.devices.includes(event.deviceId) ||
      groupsOf(event.deviceId).some((g) => rule.groups.includes(g));
    if (!named) return false;
  }
  if (
    rule.geofences.length > 0 &&
    (event.geofenceId === null || !rule.geofences.includes(event.geofenceId))
  ) {
    return false;
  }
  return rule.hours === null || withinHours(rule.hours, event.ts);
}

// ---- what users manage -------------------------------------------------------------------

const toWebhook = ({ id, url, secret, createdAt }: WebhookRecord): Webhook => ({
  id,
  url,
  secret,
  createdAt,
});

const toRule = ({ userId: _owner, ...rule }: RuleRecord): NotificationRule => rule;

export function toDelivery(row: OutboxRow): Delivery {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    deviceId: row.deviceId,
    status: row.status,
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    createdAt: row.createdAt,
    nextAt: row.status === "pending" ? row.nextAt : null,
    deliveredAt: row.deliveredAt,
  };
}

/**
 * Webhooks and notification rules: each user's own, checked before anything is stored (a URL
 * Locus may call, devices they may see, groups, fences and webhooks that exist). What a rule
 * sends is decided later, event by event (WebhookDelivery), with access asked again then.
 */
export class NotificationService {
  constructor(
    private readonly deps: {
      store: NotificationStore;
      devices: DeviceService;
      geofences: GeofenceService;
      access: AccessService;
      sender: WebhookSender;
      clock: Clock;
    },
  ) {}

  async webhooks(user: User): Promise<Webhook[]> {
    return (await this.deps.store.webhooks(user.id)).map(toWebhook);
  }

  async createWebhook(user: User, body: unknown): Promise<Webhook> {
    const { url } = parseRequest(newWebhookSchema, body);
    const refusal = await this.deps.sender.refusal(url);
    if (refusal) throw badRequest("url", refusal);
    if ((await this.deps.store.webhooks(user.id)).length >= MAX_WEBHOOKS_PER_USER) {
      throw conflict(`at most ${MAX_WEBHOOKS_PER_USER} webhooks per user`);
    }
    const stored = await this.deps.store.createWebhook(
      { userId: user.id, url, secret: newSecret("lcw_") },
      this.deps.clock.now(),
    );
    return toWebhook(stored);
  }

  async removeWebhook(user: User, id: number): Promise<void> {
    await this.ownWebhook(user, id);
    await this.deps.store.removeWebhook(id);
  }

  /** A test body, signed, sent now (not queued, not retried): what came back. */
  async testWebhook(user: User, id: number): Promise<WebhookTestResult> {
    const hook = await this.ownWebhook(user, id);
    const now = this.deps.clock.now();
    const key = `test-${randomBytes(8).toString("hex")}`;
    const sample: WebhookBody = {
      id: key,
      test: true,
      event: {
        id: 0,
        deviceId: "test-device",
        type: "geofence_enter",
        ts: now,
        lat: 0,
        lon: 0,
        geofenceId: null,
        details: { name: "test" },
      },
      device: { id: "test-device", name: "Test device" },
    };
    const body = JSON.stringify(sample);
    const res = await this.deps.sender.send({
      url: hook.url,
      body,
      headers: webhookHeaders(hook.secret, body, "test", key),
      timeoutMs: WEBHOOK_TIMEOUT_MS,
    });
    return {
      ok: res.error === null,
      status: res.status,
      latencyMs: res.latencyMs,
      error: res.error,
    };
  }

  async deliveries(user: User, id: number, limit: number): Promise<Delivery[]> {
    await this.ownWebhook(user, id);
    return (await this.deps.store.deliveries(id, limit)).map(toDelivery);
  }

  async rules(user: User): Promise<NotificationRule[]> {
    return (await this.deps.store.rules(user.id)).map(toRule);
  }

  async createRule(user: User, body: unknown): Promise<NotificationRule> {
    const fields = parseRequest(newRuleSchema, body);
    await this.check(user, fields);
    if ((await this.deps.store.rules(user.id)).length >= MAX_RULES_PER_USER) {
      throw conflict(`at most ${MAX_RULES_PER_USER} rules per user`);
    }
    const stored = await this.deps.store.createRule(
      { ...fields, userId: user.id },
      this.deps.clock.now(),
    );
    return toRule(stored);
  }

  async updateRule(user: User, id: number, body: unknown): Promise<NotificationRule> {
    const before = await this.ownRule(user, id);
    const fields = parseRequest(ruleChangeSchema, body);
    if ((fields.webhooks ?? before.webhooks).length === 0 && !(fields.push ?? before.push)) {
      throw badRequest("webhooks", NO_CHANNEL);
    }
    await this.check(user, fields);
    const stored = await this.deps.store.updateRule(id, fields, this.deps.clock.now());
    if (!stored) throw notFound(`no rule with id ${id}`);
    return toRule(stored);
  }

  async removeRule(user: User, id: number): Promise<void> {
    await this.ownRule(user, id);
    await this.deps.store.removeRule(id);
  }

  /**
   * The groups a rule of this user may name (what the dashboard offers): ones that exist and that
   * the user sees, granted or through one of its members.
   */
  async groups(user: User): Promise<string[]> {
    const { devices, access } = this.deps;
    const names = [...(await devices.groupNames())];
    if (user.grant.all) return names;
    const seen = new Set(user.grant.groups);
    for (const d of devices.all()) {
      if (access.canSee(user, d.deviceId)) for (const g of d.groups) seen.add(g);
    }
    return names.filter((g) => seen.has(g));
  }

  /** What a rule names must exist, and devices must be ones the user may see. */
  private async check(user: User, fields: RuleChange): Promise<void> {
    const { devices, access, geofences, store } = this.deps;
    for (const [i, deviceId] of (fields.devices ?? []).entries()) {
      // Not granted answers like unknown, as everywhere: a rule cannot probe for devices.
      const found = await devices.find(deviceId);
      if (!found || !access.canSee(user, deviceId)) {
        throw badRequest(`devices.${i}`, `no device "${deviceId.slice(0, 64)}"`);
      }
    }
    if (fields.groups && fields.groups.length > 0) {
      const nameable = new Set(await this.groups(user));
      for (const [i, group] of fields.groups.entries()) {
        if (!nameable.has(group))
          throw badRequest(`groups.${i}`, `no group "${group.slice(0, 64)}"`);
      }
    }
    if (fields.geofences && fields.geofences.length > 0) {
      await geofences.refresh();
      for (const [i, id] of fields.geofences.entries()) {
        if (!geofences.indexed(id)) throw badRequest(`geofences.${i}`, `no geofence with id ${id}`);
      }
    }
    if (fields.webhooks) {
      const own = new Set((await store.webhooks(user.id)).map((w) => w.id));
      for (const [i, id] of fields.webhooks.entries()) {
        if (!own.has(id)) throw badRequest(`webhooks.${i}`, `no webhook with id ${id}`);
      }
    }
  }

  /** Someone else's answers like none at all. */
  private async ownWebhook(user: User, id: number): Promise<WebhookRecord> {
    const hook = await this.deps.store.webhook(id);
    if (!hook || hook.userId !== user.id) throw notFound(`no webhook with id ${id}`);
    return hook;
  }

  private async ownRule(user: User, id: number): Promise<RuleRecord> {
    const rule = await this.deps.store.rule(id);
    if (!rule || rule.userId !== user.id) throw notFound(`no rule with id ${id}`);
    return rule;
  }
}
