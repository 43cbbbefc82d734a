import type { NewRule, NotificationRule } from "../../../../protocol/notifications.ts";
import { HttpError } from "../api.ts";

/** The rule form's fields as the user edits them, and their way to and from the API. */
export interface RuleDraft {
  name: string;
  types: string[];
  devices: string[];
  groups: string[];
  /** Fence and webhook ids as strings: the pickers' checkbox values. */
  geofences: string[];
  /** Off: the rule applies at any time. */
  limitHours: boolean;
  days: string[];
  from: string;
  to: string;
  timeZone: string;
  webhooks: string[];
  /** Also to the user's browsers, as Web Push notifications. */
  push: boolean;
}

export const DAYS: readonly { value: string; label: string }[] = [
  "Mon",
  "Tue",
  "Wed",
  "Thu",
  "Fri",
  "Sat",
  "Sun",
].map((label, i) => ({ value: String(i + 1), label }));

/** The browser's zone: what "08:00" means to the person filling the form. */
export const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function draftOf(rule: NotificationRule | null): RuleDraft {
  const hours = rule?.hours ?? null;
  return {
    name: rule?.name ?? "",
    types: [...(rule?.types ?? [])],
    devices: [...(rule?.devices ?? [])],
    groups: [...(rule?.groups ?? [])],
    geofences: (rule?.geofences ?? []).map(String),
    limitHours: hours !== null,
    days: (hours?.days ?? [1, 2, 3, 4, 5]).map(String),
    from: hours?.from ?? "08:00",
    to: hours?.to ?? "18:00",
    timeZone: hours?.timeZone ?? browserTimeZone(),
    webhooks: (rule?.webhooks ?? []).map(String),
    push: rule?.push ?? false,
  };
}

/** The body of POST /api/rules (PATCH takes the same, every field given). */
export function ruleBody(d: RuleDraft): NewRule {
  return {
    name: d.name,
    types: d.types as NewRule["types"],
    devices: d.devices,
    groups: d.groups,
    geofences: d.geofences.map(Number),
    hours: d.limitHours
      ? {
          days: d.days.map(Number).sort((a, b) => a - b),
          from: d.from,
          to: d.to,
          timeZone: d.timeZone,
        }
      : null,
    webhooks: d.webhooks.map(Number),
    push: d.push,
  };
}

/** The form's places for an error: a field the API names is shown at the control that sets it. */
export const ERROR_SLOTS = [
  "name",
  "types",
  "devices",
  "groups",
  "geofences",
  "hours.days",
  "hours.from",
  "hours.to",
  "hours.timeZone",
  "webhooks",
] as const;
export type ErrorSlot = (typeof ERROR_SLOTS)[number];

/** Where the server's error belongs (`webhooks.0` → webhooks, `hours.days.2` → hours.days), or null. */
export function slotOf(error: unknown): ErrorSlot | null {
  if (!(error instanceof HttpError) || !error.field) return null;
  const field = error.field;
  return ERROR_SLOTS.find((slot) => field === slot || field.startsWith(`${slot}.`)) ?? null;
}

/** The rule without the field, as the slot shows it under its control ("must name at least one"). */
export function ruleText(error: HttpError): string {
  const prefix = `${error.field}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
