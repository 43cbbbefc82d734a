import { createECDH, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookBody } from "../../protocol/notifications.ts";
import { loadConfig } from "../../server/config.ts";
import { silentLogger } from "../../server/logger.ts";
import { toUser, type User } from "../../server/services/access.ts";
import { createServices, type Services } from "../../server/services/index.ts";
import { openStores } from "../../server/stores/open.ts";
import type { NewEvent, Stores } from "../../server/stores/ports.ts";
import type {
  WebhookRequest,
  WebhookResponse,
  WebhookSender,
} from "../../server/webhooks/http-sender.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-db.ts";

/**
 * The outbox's rules with the clock in the test's hand (a day passes in a moment): lanes per
 * webhook and device, backoff and its cap, giving up after 24 h, access asked again at delivery,
 * and what removing a webhook or a user takes with it. Over the real store (SQLite, and
 * PostgreSQL in the `postgres` project); only the HTTP wire is replaced.
 */

const BASE_MS = 1000;
const DAY_MS = 24 * 3_600_000;

class FakeSender implements WebhookSender {
  readonly sent: { body: WebhookBody; request: WebhookRequest }[] = [];
  /** The answer to a request: a status, or null for none (a refused connection). */
  respond: (body: WebhookBody) => number | null = () => 200;

  async refusal(): Promise<string | null> {
    return null;
  }

  /** Push messages (encrypted, so not read here), and the push service's answer to them. */
  readonly pushed: WebhookRequest[] = [];
  respondPush: () => number = () => 201;

  async send(request: WebhookRequest): Promise<WebhookResponse> {
    if (typeof request.body !== "string") {
      this.pushed.push(request);
      const status = this.respondPush();
      return { status, error: status < 300 ? null : `HTTP ${status}`, latencyMs: 1 };
    }
    const body = JSON.parse(request.body) as WebhookBody;
    this.sent.push({ body, request });
    const status = this.respond(body);
    const ok = status !== null && status >= 200 && status < 300;
    return { status, error: ok ? null : `HTTP ${status ?? "none"}`, latencyMs: 1 };
  }

  /** Event ids sent, in order. */
  ids(): number[] {
    return this.sent.map((s) => Number(s.body.id));
  }
}

let database: TestDatabase | null = null;
let stores: Stores | null = null;

afterEach(async () => {
  await stores?.close();
  stores = null;
  await database?.drop();
  database = null;
});

async function setUp() {
  database = await createTestDatabase();
  const config = loadConfig([], {}, { db: database.db, webhookRetryBaseMs: BASE_MS });
  const clock = { t: 1_800_000_000_000, now: () => clock.t };
  stores = await openStores(config, { logger: silentLogger, worker: false, now: clock.now });
  const sender = new FakeSender();
  const services: Services = await createServices(stores, config, {
    clock,
    logger: silentLogger,
    webhookSender: sender,
  });
  await services.people.ensureFirstAdmin("admin-password", silentLogger);
  const userNamed = async (name: string): Promise<User> =>
    toUser((await stores!.users.byName(name))!);
  const admin = await userNamed("admin");
  const delivery = services.webhookDelivery;
  // The cursor starts at the newest event at the first fan-out: before any event here.
  await delivery.step();
  let ts = clock.t - 3_600_000;
  const record = async (...devices: string[]) => {
    const events: NewEvent[] = devices.map((deviceId) => ({
      deviceId,
      type: "geofence_enter",
      ts: (ts += 1000),
      lat: 52.5,
      lon: 13.4,
      geofenceId: null,
      details: {},
    }));
    return stores!.events.record(events, []);
  };
  const log = async (webhookId: number) =>
    (await services.notifications.deliveries(admin, webhookId, 100)).reverse();
  return { clock, sender, services, admin, userNamed, delivery, record, log, stores };
}

describe("the webhook outbox", () => {
  it("keeps each device's events in order behind a failing one, backing off up to 10 min", async () => {
    const { clock, sender, services, admin, delivery, record, log } = await setUp();
    const hook = await services.notifications.createWebhook(admin, { url: "https://h.test/" });
    await services.notifications.createRule(admin, { name: "all", webhooks: [hook.id] });
    const [e1, e2, e3, e4] = await record("d1", "d1", "d1", "d2");
    sender.respond = (body) => (body.id === e1!.id ? 503 : 200);

    await delivery.step();
    // d1's first failed, the two behind it wait; d2 has a lane of its own.
    expect(sender.ids()).toEqual([e1!.id, e4!.id]);
    let rows = await log(hook.id);
    expect(rows.map((r) => [r.eventId, r.status, r.attempts])).toEqual([
      [e1!.id, "pending", 1],
      [e2!.id, "pending", 0],
      [e3!.id, "pending", 0],
      [e4!.id, "delivered", 1],
    ]);
    expect(rows[0]!.lastStatus).toBe(503);
    await delivery.step(); // not due yet
    expect(sender.sent).toHaveLength(2);

    // Each wait doubles (±25 %) until it reaches 10 minutes, and stays there.
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 14; attempt++) {
      const head = (await log(hook.id))[0]!;
      expect(head.attempts).toBe(attempt);
      const wait = head.nextAt! - clock.t;
      waits.push(wait);
      const plain = BASE_MS * 2 ** (attempt - 1);
      expect(wait).toBeGreaterThanOrEqual(Math.min(600_000, plain * 0.75));
      expect(wait).toBeLessThanOrEqual(Math.min(600_000, plain * 1.25));
      clock.t = head.nextAt!;
      await delivery.step();
    }
    expect(waits.at(-1)).toBe(600_000);
    // The same bytes and key on every attempt.
    const attempts = sender.sent.filter((s) => s.body.id === e1!.id);
    expect(attempts).toHaveLength(15);
    expect(new Set(attempts.map((s) => s.request.body)).size).toBe(1);
    expect(new Set(attempts.map((s) => s.request.headers["idempotency-key"]))).toEqual(
      new Set([String(e1!.id)]),
    );

    sender.respond = () => 200;
    clock.t += 600_000;
    await delivery.step();
    await delivery.step();
    await delivery.step();
    const d1 = sender.ids().filter((id) => id !== e4!.id);
    expect([...new Set(d1)]).toEqual([e1!.id, e2!.id, e3!.id]);
    rows = await log(hook.id);
    expect(rows.every((r) => r.status === "delivered")).toBe(true);
  });

  it("gives up an event after 24 h, and the device's next ones go", async () => {
    const { clock, sender, services, admin, delivery, record, log } = await setUp();
    const hook = await services.notifications.createWebhook(admin, { url: "https://h.test/" });
    await services.notifications.createRule(admin, { name: "all", webhooks: [hook.id] });
    const [stuck] = await record("d1");
    sender.respond = (body) => (body.id === stuck!.id ? null : 200);
    await delivery.step();
    const start = clock.t;
    clock.t += 12 * 3_600_000;
    const [later] = await record("d1");
    await delivery.step(); // the stuck one again (due long since); the later one waits behind it
    expect(sender.ids()).toEqual([stuck!.id, stuck!.id]);

    clock.t = start + DAY_MS + 1;
    await delivery.step();
    const rows = await log(hook.id);
    expect(rows[0]).toMatchObject({ eventId: stuck!.id, status: "failed", attempts: 2 });
    expect(rows[0]!.lastError).toMatch(/^HTTP none; gave up: not delivered within 24 h$/);
    expect(rows[1]).toMatchObject({ eventId: later!.id, status: "delivered", attempts: 1 });
    expect(sender.ids().at(-1)).toBe(later!.id);
  });

  it("asks access again at delivery, and sends an event once per webhook however many rules match", async () => {
    const { clock, sender, services, userNamed, delivery, record, stores } = await setUp();
    await services.people.add("cli", {
      name: "viewer",
      role: "viewer",
      devices: ["d1"],
      password: "viewer-password",
    });
    const viewer = await userNamed("viewer");
    for (const id of ["d1", "d2"]) await services.devices.ensure(id);
    const theirs = await services.notifications.createWebhook(viewer, { url: "https://v.test/" });
    const second = await services.notifications.createWebhook(viewer, { url: "https://w.test/" });
    await services.notifications.createRule(viewer, { name: "a", webhooks: [theirs.id] });
    await services.notifications.createRule(viewer, {
      name: "b",
      types: ["geofence_enter"],
      devices: ["d1"],
      webhooks: [theirs.id, second.id],
    });
    const [first] = await record("d1", "d2");
    sender.respond = () => null; // down
    await delivery.step();
    const own = (id: number) => services.notifications.deliveries(viewer, id, 100);
    expect((await own(theirs.id)).map((r) => r.eventId)).toEqual([first!.id]);
    expect((await own(second.id)).map((r) => r.eventId)).toEqual([first!.id]);

    // The grant withdrawn while the receiver is down: the pending rows are not sent.
    await services.people.setAccess("cli", "viewer", { role: "viewer", devices: [] });
    sender.respond = () => 200;
    clock.t += 60_000;
    const before = sender.sent.length;
    await delivery.step();
    await delivery.step();
    expect(sender.sent.length).toBe(before);
    for (const id of [theirs.id, second.id]) {
      const [row] = await own(id);
      expect(row).toMatchObject({ status: "failed" });
      expect(row!.lastError).toMatch(/may no longer see this device/);
    }

    // Removing a webhook takes its rows, and rules stop naming it.
    await services.notifications.removeWebhook(viewer, second.id);
    const rules = await services.notifications.rules(viewer);
    expect(rules.map((r) => r.webhooks)).toEqual([[theirs.id], [theirs.id]]);
    expect(await stores.notifications.deliveries(second.id, 10)).toEqual([]);

    // Removing the user takes their webhooks, rules and outbox rows.
    await services.people.remove("cli", "viewer");
    expect(await stores.notifications.webhooks(viewer.id)).toEqual([]);
    expect(await stores.notifications.rules(viewer.id)).toEqual([]);
    expect(await stores.notifications.deliveries(theirs.id, 10)).toEqual([]);
  });

  it("sends a pushing rule's events to its owner's browsers through the outbox; a 410 forgets the browser", async () => {
    const { clock, sender, services, admin, delivery, record, stores } = await setUp();
    const browser = () => ({
      endpoint: `https://push.test/${randomBytes(6).toString("hex")}`,
      keys: {
        p256dh: createECDH("prime256v1").generateKeys().toString("base64url"),
        auth: randomBytes(16).toString("base64url"),
      },
    });
    const laptop = await services.push.subscribe(
      admin,
      browser(),
      "Mozilla/5.0 (X11; Linux) Chrome/140",
    );
    expect(laptop.label).toBe("Chrome on Linux");
    await services.push.subscribe(admin, browser(), undefined);
    await services.notifications.createRule(admin, { name: "push", push: true });
    const [event] = await record("d1");
    sender.respondPush = () => 503;
    await delivery.step();
    expect(sender.pushed.map((r) => r.url).sort()).toEqual(
      (await stores.push.subscriptions(admin.id)).map((s) => s.endpoint).sort(),
    );
    expect(sender.pushed[0]!.headers.authorization).toMatch(/^vapid t=.+, k=/);
    expect(sender.pushed[0]!.headers.ttl).toBe("86400");

    // Retried like a webhook; the push service now says the browser is gone (410) for one.
    sender.respondPush = () => 410;
    clock.t += 60_000;
    await delivery.step();
    expect(sender.pushed).toHaveLength(4);
    expect(await stores.push.subscriptions(admin.id)).toEqual([]);
    expect(event!.id).toBeGreaterThan(0);

    // The key pair is made once: a second process offering its own gets the stored one.
    const again = await stores.push.vapidKeys({ publicKey: "other", privateKey: "other" });
    expect(again.publicKey).toBe(services.push.publicKey());
  });
});
