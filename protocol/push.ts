import { z } from "zod";
import type { EventType } from "./geofence.ts";
import { MAX_WEBHOOK_URL_LENGTH, urlProblem } from "./notifications.ts";

/**
 * The Web Push contract (REST, docs/push.md): the server's public key a browser subscribes with,
 * the subscription it sends back (PushSubscription.toJSON()), and the payload the service worker
 * gets and shows.
 */

export const MAX_PUSH_SUBSCRIPTIONS_PER_USER = 20;

/** How many bytes base64url text decodes to (padding allowed, not needed); -1 if it is not. */
export function base64urlBytes(text: string): number {
  const m = /^([A-Za-z0-9_-]*)(={0,2})$/.exec(text);
  if (!m || m[1]!.length % 4 === 1) return -1;
  return Math.floor((m[1]!.length * 6) / 8);
}

/** Base64url that decodes to exactly `bytes` bytes (checked here: protocol/ runs in browsers). */
const base64url = (bytes: number, what: string) =>
  z.string({ error: `must be ${what}, base64url` }).refine((s) => base64urlBytes(s) === bytes, {
    error: `must be ${what}: ${bytes} bytes, base64url`,
  });

export const pushSubscriptionSchema = z.object({
  endpoint: z
    .string({ error: "must be a string" })
    .max(MAX_WEBHOOK_URL_LENGTH, { error: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` })
    .superRefine((raw, ctx) => {
      const problem = urlProblem(raw);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  // Browsers add this (null nearly always); taken, not kept.
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject(
    {
      // An uncompressed point starts with the byte 0x04: its first six bits give "B".
      p256dh: base64url(65, "a P-256 public key").refine((s) => s.startsWith("B"), {
        error: "must be an uncompressed P-256 public key (starting 0x04), base64url",
      }),
      auth: base64url(16, "an auth secret"),
    },
    { error: "must be an object with p256dh and auth" },
  ),
});
export type NewPushSubscription = z.input<typeof pushSubscriptionSchema>;

/** A subscription as its owner lists it (the keys stay on the server). */
export interface PushSubscriptionInfo {
  id: number;
  endpoint: string;
  /** Which browser, from its User-Agent: "Chrome on Linux". */
  label: string;
  createdAt: number;
}

/** What a push message carries, as JSON: the service worker shows it. */
export interface PushPayload {
  title: string;
  body: string;
  eventId: number;
  eventType: EventType;
  deviceId: string;
  ts: number;
  /** Where a click on the notification goes: the dashboard, the vehicle selected. */
  url: string;
}
