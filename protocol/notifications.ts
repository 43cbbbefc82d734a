import { z } from "zod";
import { EVENT_TYPES, type EventType, type FleetEvent } from "./geofence.ts";

/**
 * The notification contract (REST, docs/webhooks.md): webhooks a user receives events at, rules
 * that say which events go to which webhooks, the body a receiver gets and how it is signed, and
 * the delivery log. Every user sees and changes only their own.
 */

/** `sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's secret>`. */
export const SIGNATURE_HEADER = "X-Locus-Signature";
/** The event's type (`geofence_enter`…), or `test` for a test send. */
export const EVENT_HEADER = "X-Locus-Event";
/** The event id: the same on every retry, so a receiver can drop a second copy. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const MAX_WEBHOOKS_PER_USER = 20;
export const MAX_RULES_PER_USER = 100;
export const DELIVERIES_MAX_LIMIT = 500;

const webhookUrl = z
  .string({ error: "must be a string" })
  .max(MAX_WEBHOOK_URL_LENGTH, { error: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` })
  .superRefine((raw, ctx) => {
    const problem = urlProblem(raw);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** What is wrong with a webhook URL's form (not where it points), or null. */
export function urlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute http:// or https:// URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return "must be an http:// or https:// URL";
  }
  if (url.hostname === "") return "must name a host";
  if (url.hash !== "") return "must not have a #fragment";
  return null;
}

export const newWebhookSchema = z.strictObject({ url: webhookUrl });
export type NewWebhook = z.input<typeof newWebhookSchema>;

export interface Webhook {
  id: number;
  url: string;
  /**
   * The key of the HMAC in `X-Locus-Signature`. Shown to its owner (they need it to verify), to
   * nobody else.
   */
  secret: string;
  createdAt: number;
}

// ---- rules -------------------------------------------------------------------------------

const clock = (allowEndOfDay: boolean) =>
  z
    .string({ error: "must be a time as HH:MM" })
    .regex(
      allowEndOfDay ? /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/ : /^(?:[01]\d|2[0-3]):[0-5]\d$/,
      {
        error: allowEndOfDay
          ? "must be a time as HH:MM, 00:00 to 24:00"
          : "must be a time as HH:MM, 00:00 to 23:59",
      },
    );

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * When a rule applies: on these days of the week (ISO: 1 Monday … 7 Sunday), from `from` until
 * `to` (local time in `timeZone`). A window that ends before it starts runs past midnight and
 * belongs to the day it starts on: Friday 22:00–06:00 includes Saturday 03:00.
 */
export const ruleHoursSchema = z
  .strictObject({
    days: z
      .array(
        z
          .int({ error: "must be a day of the week, 1 (Monday) to 7 (Sunday)" })
          .min(1, { error: "must be a day of the week, 1 (Monday) to 7 (Sunday)" })
          .max(7, { error: "must be a day of the week, 1 (Monday) to 7 (Sunday)" }),
        { error: "must be a list of days of the week, 1 (Monday) to 7 (Sunday)" },
      )
      .min(1, { error: "must name at least one day" })
      .max(7, { error: "must name each day at most once" })
      .default([1, 2, 3, 4, 5, 6, 7])
      .refine((days) => new Set(days).size === days.length, {
        error: "must name each day at most once",
      }),
    from: clock(false),
    to: clock(true),
    timeZone: z
      .string({ error: "must be a time zone name such as Europe/Berlin" })
      .max(64, { error: "must be a time zone name such as Europe/Berlin" })
      .refine(isTimeZone, { error: "must be a time zone name such as Europe/Berlin or UTC" })
      .default("UTC"),
  })
  .superRefine((hours, ctx) => {
    if (hours.from === hours.to) {
      ctx.addIssue({
        code: "custom",
        message: "must differ from hours.from (00:00 to 24:00 is the whole day)",
        path: ["to"],
      });
    }
  });
export type RuleHours = z.output<typeof ruleHoursSchema>;

const ruleName = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(100, { error: "must be at most 100 characters" })
  .refine((s) => s.trim() === s, { error: "must not start or end with a space" });

const idList = (what: string, max: number) =>
  z
    .array(z.int({ error: `must be ${what} ids` }).min(1, { error: `must be ${what} ids` }), {
      error: `must be a list of ${what} ids`,
    })
    .max(max, { error: `must name at most ${max}` });

const ruleFields = {
  name: ruleName,
  /** Which events; empty: every type. */
  types: z
    .array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(", ")}` }), {
      error: "must be a list of event types",
    })
    .refine((types) => new Set(types).size === types.length, {
      error: "must name each type at most once",
    }),
  /** Devices by id; with `groups`, the devices the rule is about (both empty: every device). */
  devices: z
    .array(z.string({ error: "must be device ids" }), { error: "must be a list of device ids" })
    .max(1000, { error: "must name at most 1000" }),
  /** Groups by name: their members, present and future. */
  groups: z
    .array(z.string({ error: "must be group names" }), { error: "must be a list of group names" })
    .max(100, { error: "must name at most 100" }),
  /** Only events about these fences; empty: any event, with a fence or not. */
  geofences: idList("geofence", 1000),
  /** When the rule applies (the event's own time); null: always. */
  hours: ruleHoursSchema.nullable(),
  /** Where the events go: webhooks of the rule's owner, by id. */
  webhooks: idList("webhook", MAX_WEBHOOKS_PER_USER),
  /** And to every browser its owner turned notifications on in (Web Push). */
  push: z.boolean({ error: "must be true or false" }),
};

/** Said when a rule would send nowhere; under `webhooks`, the field a client most likely fills. */
export const NO_CHANNEL = "must name at least one webhook, or push must be true";

export const newRuleSchema = z
  .strictObject({
    ...ruleFields,
    types: ruleFields.types.default([]),
    devices: ruleFields.devices.default([]),
    groups: ruleFields.groups.default([]),
    geofences: ruleFields.geofences.default([]),
    hours: ruleFields.hours.default(null),
    webhooks: ruleFields.webhooks.default([]),
    push: ruleFields.push.default(false),
  })
  .superRefine((rule, ctx) => {
    if (rule.webhooks.length === 0 && !rule.push) {
      ctx.addIssue({ code: "custom", message: NO_CHANNEL, path: ["webhooks"] });
    }
  });
export type NewRule = z.input<typeof newRuleSchema>;
export type RuleFields = z.output<typeof newRuleSchema>;

export const ruleChangeSchema = z.strictObject(ruleFields).partial();
export type RuleChange = z.output<typeof ruleChangeSchema>;

export interface NotificationRule {
  id: number;
  name: string;
  types: EventType[];
  devices: string[];
  groups: string[];
  geofences: number[];
  hours: RuleHours | null;
  webhooks: number[];
  push: boolean;
  createdAt: number;
  updatedAt: number;
}

// ---- what receivers get, and the log of it ---------------------------------------------

/** The JSON body of every webhook request, signed as sent. */
export interface WebhookBody {
  /** The event id (also the `Idempotency-Key`); a string starting `test-` for a test send. */
  id: number | string;
  /** True only for a test send. */
  test?: true;
  event: FleetEvent;
  device: { id: string; name: string | null };
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Delivery {
  id: number;
  eventId: number;
  eventType: EventType;
  deviceId: string;
  status: DeliveryStatus;
  /** Requests made so far. */
  attempts: number;
  /** HTTP status of the last attempt, or null (no answer: refused, timed out, blocked). */
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  /** When the next attempt is due (pending only). */
  nextAt: number | null;
  deliveredAt: number | null;
}

export interface WebhookTestResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
}
