import webpush from "web-push";
import { EVENT_LABEL } from "../../protocol/event-label.ts";
import type { FleetEvent } from "../../protocol/geofence.ts";
import {
  MAX_PUSH_SUBSCRIPTIONS_PER_USER,
  pushSubscriptionSchema,
  type PushPayload,
  type PushSubscriptionInfo,
} from "../../protocol/push.ts";
import type { Clock } from "../clock.ts";
import type { PushStore, PushSubscriptionRecord, VapidKeys } from "../stores/ports.ts";
import type { WebhookRequest, WebhookSender } from "../webhooks/http-sender.ts";
import type { User } from "./access.ts";
import { badRequest, conflict, notFound, parseRequest } from "./errors.ts";

/**
 * A push message unread this long is dropped by the push service: a notification about a van
 * that left the depot yesterday is noise. Also the outbox's give-up time, so neither outlives
 * the other.
 */
export const PUSH_TTL_S = 24 * 3600;

/** "Chrome on Linux": enough for a user to tell their browsers apart, nothing more. */
export function browserLabel(userAgent: string | undefined): string {
  const ua = userAgent ?? "";
  const browser =
    [
      [/Edg\//, "Edge"],
      [/OPR\//, "Opera"],
      [/Firefox\//, "Firefox"],
      [/Chrom(e|ium)\//, "Chrome"],
      [/Safari\//, "Safari"],
    ].find(([re]) => (re as RegExp).test(ua))?.[1] ?? "A browser";
  const os =
    [
      [/Android/, "Android"],
      [/iPhone|iPad/, "iOS"],
      [/Windows/, "Windows"],
      [/Mac OS X|Macintosh/, "macOS"],
      [/CrOS/, "ChromeOS"],
      [/Linux/, "Linux"],
    ].find(([re]) => (re as RegExp).test(ua))?.[1] ?? null;
  return os ? `${browser as string} on ${os as string}` : (browser as string);
}

/** A duration in whole minutes (at least 1), as a notification's short line says it. */
function minutes(ms: number): string {
  return `${Math.max(1, Math.round(ms / 60_000))} min`;
}

/** The words of a notification: "van-7 · Entered" / "Depot". */
export function pushPayload(event: FleetEvent, device: { name: string | null }): PushPayload {
  const vehicle = device.name ?? event.deviceId;
  const d = event.details;
  let body: string;
  if (event.type === "geofence_enter" || event.type === "geofence_exit") {
    body = `${event.type === "geofence_enter" ? "Entered" : "Left"} ${String(d.name ?? "a geofence")}`;
  } else if (event.type === "overspeed") {
    body = typeof d.peak === "number" ? `Peak ${Math.round(d.peak * 3.6)} km/h` : "Over the limit";
  } else if (event.type === "alarm") {
    body = d.alarm === "sos" ? "SOS" : `Alarm: ${String(d.alarm ?? "raised")}`;
  } else if (event.type === "battery_low") {
    body = typeof d.battery === "number" ? `Battery at ${Math.round(d.battery)} %` : "Battery low";
  } else if (event.type === "offline") {
    body =
      typeof d.lastFixAt === "number"
        ? `No fix for ${minutes(event.ts - d.lastFixAt)}`
        : "No recent fix";
  } else if (event.type === "online") {
    body = typeof d.offlineS === "number" ? `After ${minutes(d.offlineS * 1000)} offline` : "Back";
  } else if (event.type === "moving") {
    body = typeof d.stoppedS === "number" ? `After ${minutes(d.stoppedS * 1000)} stopped` : "Again";
  } else {
    body = "Stopped";
  }
  return {
    title: `${vehicle} · ${EVENT_LABEL[event.type]}`,
    body,
    eventId: event.id,
    eventType: event.type,
    deviceId: event.deviceId,
    ts: event.ts,
    url: `/?device=${encodeURIComponent(event.deviceId)}`,
  };
}

const toInfo = ({ id, endpoint, label, createdAt }: PushSubscriptionRecord) => ({
  id,
  endpoint,
  label,
  createdAt,
});

/**
 * Browser Web Push: the server's VAPID keys (made on first run, kept in the database so every
 * node of a cluster and every restart signs with the same pair: a new pair would orphan every
 * subscription), each user's browsers, and the encrypted request one message becomes. Which
 * events go where is decided by WebhookDelivery, as for webhooks.
 */
export class PushService {
  private keys: VapidKeys | null = null;

  constructor(
    private readonly deps: {
      store: PushStore;
      sender: WebhookSender;
      clock: Clock;
      /** `--vapid-subject`. */
      subject: string;
      /** `--webhook-allow-private`: also lets a push endpoint be plain http (a LAN or a test). */
      allowPrivate: boolean;
    },
  ) {}

  /** Load (or make, on first run) the key pair. */
  async load(): Promise<void> {
    this.keys = await this.deps.store.vapidKeys(webpush.generateVAPIDKeys());
  }

  /** The application server key browsers subscribe with (base64url, an uncompressed P-256 point). */
  publicKey(): string {
    return this.vapid().publicKey;
  }

  async subscriptions(user: User): Promise<PushSubscriptionInfo[]> {
    return (await this.deps.store.subscriptions(user.id)).map(toInfo);
  }

  async subscribe(
    user: User,
    body: unknown,
    userAgent: string | undefined,
  ): Promise<PushSubscriptionInfo> {
    const { endpoint, keys } = parseRequest(pushSubscriptionSchema, body);
    // Push services are https; plain http only where private addresses are allowed anyway.
    if (!this.deps.allowPrivate && !endpoint.startsWith("https:")) {
      throw badRequest("endpoint", "must be an https:// URL");
    }
    const refusal = await this.deps.sender.refusal(endpoint);
    if (refusal) throw badRequest("endpoint", refusal);
    const own = await this.deps.store.subscriptions(user.id);
    if (
      !own.some((s) => s.endpoint === endpoint) &&
      own.length >= MAX_PUSH_SUBSCRIPTIONS_PER_USER
    ) {
      throw conflict(`at most ${MAX_PUSH_SUBSCRIPTIONS_PER_USER} browsers per user`);
    }
    const stored = await this.deps.store.subscribe(
      { userId: user.id, endpoint, ...keys, label: browserLabel(userAgent) },
      this.deps.clock.now(),
    );
    return toInfo(stored);
  }

  /** Every user's browsers (fan-out, delivery). */
  everySubscription(): Promise<PushSubscriptionRecord[]> {
    return this.deps.store.subscriptions();
  }

  /** Someone else's answers like none at all. */
  async unsubscribe(user: User, id: number): Promise<void> {
    const sub = await this.deps.store.subscription(id);
    if (!sub || sub.userId !== user.id) throw notFound(`no push subscription with id ${id}`);
    await this.deps.store.unsubscribe(id);
  }

  /**
   * One message as an HTTP request (RFC 8291 aes128gcm, VAPID-signed), made afresh for each
   * attempt: the encryption and the signature's expiry are new each time.
   */
  request(
    sub: PushSubscriptionRecord,
    payload: string,
    options: { urgency: "normal" | "high"; timeoutMs: number; signal?: AbortSignal },
  ): WebhookRequest {
    const keys = this.vapid();
    const details = webpush.generateRequestDetails(
      { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
      payload,
      {
        vapidDetails: { subject: this.deps.subject, ...keys },
        TTL: PUSH_TTL_S,
        urgency: options.urgency,
        contentEncoding: "aes128gcm",
      },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(details.headers)) {
      headers[name.toLowerCase()] = String(value);
    }
    return {
      url: details.endpoint,
      body: details.body as Buffer,
      headers,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    };
  }

  /** Gone, as the push service said (404, 410): the browser unsubscribed or expired. */
  async forget(id: number): Promise<void> {
    await this.deps.store.unsubscribe(id);
  }

  private vapid(): VapidKeys {
    if (!this.keys) throw new Error("PushService.load() was not awaited");
    return this.keys;
  }
}
