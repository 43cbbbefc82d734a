import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type {
  AttemptOutcome,
  NotificationStore,
  OutboxRow,
  PushSubscriptionRecord,
  UserStore,
  WebhookRecord,
} from "../stores/ports.ts";
import type { WebhookRequest, WebhookResponse, WebhookSender } from "../webhooks/http-sender.ts";
import { toUser, type AccessService } from "./access.ts";
import type { DeviceService } from "./devices.ts";
import { outboxRows } from "./fan-out.ts";
import { WEBHOOK_TIMEOUT_MS, webhookHeaders } from "./notifications.ts";
import type { PushService } from "./push.ts";

/** Where a row goes, as its channel's table has it. */
type Target =
  | { channel: "webhook"; record: WebhookRecord }
  | { channel: "push"; record: PushSubscriptionRecord };

export interface WebhookDeliveryOptions {
  /** Wait after the first failed attempt; each further one doubles it (`--webhook-retry-base-ms`). */
  retryBaseMs: number;
  /** The longest wait between attempts. */
  maxBackoffMs: number;
  /** An event not delivered this long after it entered the outbox is given up. */
  giveUpAfterMs: number;
  /** Requests in flight at once, over every webhook. */
  concurrency: number;
  timeoutMs: number;
  /** How often the store is looked at when nothing woke the worker. */
  pollMs: number;
  /** Delivered and given-up rows stay in the log this long. */
  keepMs: number;
  /** Events fanned out per transaction. */
  batch: number;
  /** False while another process of the cluster does this work. */
  leads: () => boolean;
  /** In [0, 1): the jitter of each wait (tests may fix it). */
  random: () => number;
}

export const WEBHOOK_DELIVERY_DEFAULTS: WebhookDeliveryOptions = {
  retryBaseMs: 1000,
  maxBackoffMs: 10 * 60_000,
  giveUpAfterMs: 24 * 3_600_000,
  concurrency: 8,
  timeoutMs: WEBHOOK_TIMEOUT_MS,
  pollMs: 1000,
  keepMs: 7 * 24 * 3_600_000,
  batch: 500,
  leads: () => true,
  random: Math.random,
};

const PURGE_EVERY_MS = 60_000;
const EXPIRE_EVERY_MS = 10_000;
const NOT_VISIBLE = "not sent: its owner may no longer see this device";
const GAVE_UP = "gave up: not delivered within 24 h";

/**
 * Events to webhooks and browsers (Web Push), through the persisted outbox; a row's target is a
 * channel and an id, and both channels share every rule below. Two steps, both run by the one
 * process that leads background work (every SQLite server; one node of a cluster):
 *
 * - Fan-out: events after the cursor are matched against every rule, and each (event, target)
 *   a rule sends it to becomes an outbox row (fan-out.ts); the rows and the cursor move in one
 *   transaction, so a crash neither loses an event nor adds one twice. Access is asked now, of
 *   the rule's owner as the store says it is: a grant withdrawn stops what follows.
 * - Delivery: per target and device, rows go in order: the oldest pending row is the lane's head,
 *   and a head that fails holds the rows behind it until it is delivered or given up (24 h), so a
 *   receiver gets each device's events in the order they happened. Waits double from the base
 *   (with ±25 % jitter) up to 10 minutes. A row is marked only after its attempt: a crash during a
 *   request sends it again after the restart, with the same Idempotency-Key.
 */
export class WebhookDelivery {
  private readonly options: WebhookDeliveryOptions;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  private turning: Promise<void> | null = null;
  private again = false;
  /** Lanes (webhook, device) with a request under way, and the requests. */
  private readonly lanes = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborts the requests under way at stop. */
  private readonly stopping = new AbortController();
  private lastPurge = 0;
  private lastExpiry = Number.NEGATIVE_INFINITY;
  private settling: {
    id: number;
    outcome: AttemptOutcome;
    resolve: () => void;
    reject: (err: unknown) => void;
  }[] = [];

  constructor(
    private readonly deps: {
      store: NotificationStore;
      users: UserStore;
      devices: DeviceService;
      access: AccessService;
      sender: WebhookSender;
      push: PushService;
      clock: Clock;
      logger: Logger;
    },
    options: Partial<WebhookDeliveryOptions> = {},
  ) {
    this.options = { ...WEBHOOK_DELIVERY_DEFAULTS, ...options };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.kick();
  }

  /** Look at the store now (an event was stored here, a request ended). */
  kick(): void {
    if (!this.started || this.stopped) return;
    if (this.turning) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Stop: no new request starts; the ones under way end (their rows stay pending, and go again). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.turning;
    await Promise.all(this.inFlight);
  }

  /** Fan out every event stored so far, now (tests, and the turn itself). */
  async fanOut(): Promise<void> {
    const { store } = this.deps;
    for (;;) {
      const events = await store.unsentEvents(this.options.batch);
      if (events.length === 0) return;
      const rows = await outboxRows(events, this.deps);
      await store.enqueue(rows, events.at(-1)!.id, this.deps.clock.now());
      if (events.length < this.options.batch) return;
    }
  }

  /**
   * One turn now, without the timer, resolving once its requests ended: for tests that drive the
   * clock themselves (the worker need not be started).
   */
  async step(): Promise<void> {
    await this.fanOut();
    await this.upkeep();
    await this.deliverDue();
    await Promise.all(this.inFlight);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.turning = this.turn().then((wait) => {
        this.turning = null;
        // Woken while it ran: again at once.
        this.schedule(this.again ? 0 : wait);
      });
    }, ms);
    this.timer.unref();
  }

  /** One turn; resolves with how long to wait before the next (it never rejects). */
  private async turn(): Promise<number> {
    this.again = false;
    let wait = this.options.pollMs;
    try {
      if (this.options.leads()) {
        await this.fanOut();
        await this.upkeep();
        await this.deliverDue();
        // A head due already is under way or waits for a free slot: the end of a request wakes
        // the worker for those.
        const next = await this.deps.store.nextDue();
        const now = this.deps.clock.now();
        if (next !== null && next > now) wait = Math.min(wait, next - now);
      }
    } catch (err) {
      this.deps.logger.error({ err }, "webhook delivery: a turn failed; trying again");
    }
    return wait;
  }

  /** Give up rows too old to send; now and then, forget old finished ones. */
  private async upkeep(): Promise<void> {
    const { store, clock } = this.deps;
    const now = clock.now();
    // A 24-hour rule needs no checking at every delivery (each check is a write).
    if (now - this.lastExpiry >= EXPIRE_EVERY_MS) {
      this.lastExpiry = now;
      const expired = await store.expire(now - this.options.giveUpAfterMs, GAVE_UP);
      if (expired > 0) this.deps.logger.warn({ expired }, "webhook deliveries given up after 24 h");
    }
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await store.purge(now - this.options.keepMs);
    }
  }

  private async deliverDue(): Promise<void> {
    const { concurrency } = this.options;
    if (this.inFlight.size >= concurrency || this.stopped) return;
    const { store, clock, access } = this.deps;
    // Lanes busy before the query are left alone even if their request ends while it runs: the
    // row it returns for such a lane may be the one just delivered.
    const busy = new Set(this.lanes);
    // Heads of lanes under way come back too: ask for enough to fill every free slot.
    const due = await store.due(clock.now(), concurrency + busy.size);
    if (due.length === 0) return;
    const hooks = new Map((await store.webhooks()).map((w) => [w.id, w]));
    const browsers = due.some((r) => r.channel === "push")
      ? new Map((await this.deps.push.everySubscription()).map((b) => [b.id, b]))
      : new Map<number, PushSubscriptionRecord>();
    const users = new Map((await this.deps.users.list()).map((u) => [u.id, toUser(u)]));
    const unseen: number[] = [];
    for (const row of due) {
      if (this.inFlight.size >= concurrency) break;
      const lane = `${row.channel}\n${row.targetId}\n${row.deviceId}`;
      if (busy.has(lane) || this.lanes.has(lane)) continue;
      const hook = row.channel === "webhook" ? hooks.get(row.targetId) : undefined;
      const browser = row.channel === "push" ? browsers.get(row.targetId) : undefined;
      const target: Target | null = hook
        ? { channel: "webhook", record: hook }
        : browser
          ? { channel: "push", record: browser }
          : null;
      if (!target) continue; // removed meanwhile, with its rows
      const owner = users.get(target.record.userId);
      if (!owner || !access.canSee(owner, row.deviceId)) {
        unseen.push(row.id);
        continue;
      }
      this.lanes.add(lane);
      const attempt = this.attempt(row, target).finally(() => {
        this.lanes.delete(lane);
        this.inFlight.delete(attempt);
        this.kick();
      });
      this.inFlight.add(attempt);
    }
    if (unseen.length > 0) {
      await store.abandon(unseen, NOT_VISIBLE);
      this.again = true;
    }
  }

  private async attempt(row: OutboxRow, target: Target): Promise<void> {
    const { clock, logger } = this.deps;
    try {
      const res = await this.send(row, target);
      // Cut short by a shutdown: not the receiver's failure; the row goes again after the start.
      if (this.stopped) return;
      // The push service no longer knows this browser (unsubscribed, expired): it never will
      // again, so the subscription goes, with its rows.
      if (target.channel === "push" && (res.status === 404 || res.status === 410)) {
        await this.deps.push.forget(target.record.id);
        logger.info({ subscription: target.record.id }, "push subscription gone; removed");
        return;
      }
      const now = clock.now();
      await this.settle(
        row.id,
        res.error === null
          ? {
              status: "delivered",
              nextAt: now,
              lastStatus: res.status,
              lastError: null,
              deliveredAt: now,
            }
          : {
              status: "pending",
              nextAt: now + this.backoff(row.attempts + 1),
              lastStatus: res.status,
              lastError: res.error,
              deliveredAt: null,
            },
      );
    } catch (err) {
      // The store failed (closing, unreachable): the row stays as it was and goes again.
      logger.warn({ err, outbox: row.id }, "webhook delivery: recording an attempt failed");
    }
  }

  /** One request; one that cannot even be made (a key the push library refuses) is a failure. */
  private async send(row: OutboxRow, target: Target): Promise<WebhookResponse> {
    let request: WebhookRequest;
    try {
      request = this.request(row, target);
    } catch (err) {
      const error = `not sent: ${err instanceof Error ? err.message : String(err)}`;
      return { status: null, error, latencyMs: 0 };
    }
    return this.deps.sender.send(request);
  }

  private request(row: OutboxRow, target: Target): WebhookRequest {
    const { timeoutMs } = this.options;
    const signal = this.stopping.signal;
    if (target.channel === "push") {
      // An alarm (SOS) may wake a sleeping phone; the rest can wait for its next wake-up.
      const urgency = row.eventType === "alarm" ? "high" : "normal";
      return this.deps.push.request(target.record, row.body, { urgency, timeoutMs, signal });
    }
    const { url, secret } = target.record;
    const headers = webhookHeaders(secret, row.body, row.eventType, String(row.eventId));
    return { url, body: row.body, headers, timeoutMs, signal };
  }

  /**
   * Attempts that end in the same turn of the event loop are recorded in one store transaction:
   * under ingest, a write per delivery would wait its turn behind the position commits each time.
   * Resolves once recorded; the lane stays busy until then, so its next row is not read early.
   */
  private settle(id: number, outcome: AttemptOutcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settling.push({ id, outcome, resolve, reject });
      if (this.settling.length > 1) return;
      setImmediate(() => {
        const batch = this.settling.splice(0);
        this.deps.store.settle(batch).then(
          () => batch.forEach((a) => a.resolve()),
          (err: unknown) => batch.forEach((a) => a.reject(err)),
        );
      });
    });
  }

  /** The wait after the `attempts`-th failed attempt. */
  private backoff(attempts: number): number {
    const { retryBaseMs, maxBackoffMs, random } = this.options;
    const plain = retryBaseMs * 2 ** Math.min(attempts - 1, 40);
    return Math.round(Math.min(maxBackoffMs, plain * (0.75 + random() * 0.5)));
  }
}
