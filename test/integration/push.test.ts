import { afterEach, describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import type { PushSubscriptionInfo } from "../../protocol/push.ts";
import {
  report,
  signIn,
  startTestLocus,
  useTestBed,
  waitFor,
  type DeviceSocket,
} from "../support/locus.ts";
import { TestPushService, verifiedVapid, type TestBrowser } from "../support/push-service.ts";

/**
 * Browser Web Push (issue #14): a rule that pushes sends its events to every browser its owner
 * subscribed, through a real push service on a loopback port standing in for the browser
 * vendors'; each message is decrypted with the browser's own keys, as the browser would.
 */
const bed = useTestBed();
const services: TestPushService[] = [];
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function pushService(): Promise<TestPushService> {
  const s = await new TestPushService().listen();
  services.push(s);
  return s;
}

type As = (path: string, init?: RequestInit) => Promise<Response>;
const admin: As = (path, init) => bed.server.fetch(path, init);

function post(as: As, path: string, body: unknown): Promise<Response> {
  return as(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
    },
    body: JSON.stringify(body),
  });
}

async function subscribe(as: As, browser: TestBrowser): Promise<PushSubscriptionInfo> {
  const res = await post(as, "/api/push/subscriptions", browser.toJSON());
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as PushSubscriptionInfo;
}

async function subscriptions(as: As): Promise<PushSubscriptionInfo[]> {
  const res = await as("/api/push/subscriptions");
  expect(res.status).toBe(200);
  return ((await res.json()) as { subscriptions: PushSubscriptionInfo[] }).subscriptions;
}

let clock = Date.now() - 3_600_000;

/** A fix with the device's SOS button pressed: an `alarm` event. */
async function sos(device: DeviceSocket): Promise<void> {
  clock += 10_000;
  const ack = await report(device, {
    ts: clock,
    lat: 52.52,
    lon: 13.405,
    attributes: { alarm: "sos" },
  });
  expect(ack.ok).toBe(true);
}

async function allEvents(as: As = admin): Promise<FleetEvent[]> {
  await bed.server.locus.services.events.idle();
  const res = await as("/api/events?limit=500");
  return ((await res.json()) as { events: FleetEvent[] }).events.reverse();
}

describe("Web Push", () => {
  it("sends an event to the owner's browser, encrypted for it and VAPID-signed; a 410 forgets the browser", async () => {
    await bed.start({ webhookAllowPrivate: true });
    const ps = await pushService();
    const { publicKey } = (await (await admin("/api/push/key")).json()) as { publicKey: string };
    expect(Buffer.from(publicKey, "base64url")).toHaveLength(65);
    const browser = ps.browser();
    const sub = await subscribe(admin, browser);
    expect(sub).toMatchObject({ endpoint: browser.endpoint, label: "Chrome on Linux" });
    expect(await subscriptions(admin)).toEqual([sub]);
    const rule = await post(admin, "/api/rules", { name: "SOS", types: ["alarm"], push: true });
    expect(rule.status).toBe(201);
    expect(await rule.json()).toMatchObject({ push: true, webhooks: [] });

    const van = await bed.device("van-1");
    await sos(van);
    await waitFor(() => ps.messages.length >= 1, { what: "a push message" });
    const [message] = ps.messages;
    expect(message!.path).toBe(new URL(browser.endpoint).pathname);
    const vapid = verifiedVapid(message!.headers.authorization);
    expect(vapid.key).toBe(publicKey);
    expect(vapid.claims).toMatchObject({
      aud: `http://127.0.0.1:${ps.port}`,
      sub: "mailto:locus@localhost",
    });
    expect(message!.headers).toMatchObject({
      "content-encoding": "aes128gcm",
      ttl: "86400",
      urgency: "high", // an alarm
    });
    const [event] = await allEvents();
    expect(browser.decrypt(message!.body)).toEqual({
      title: "van-1 · Alarm",
      body: "SOS",
      eventId: event!.id,
      eventType: "alarm",
      deviceId: "van-1",
      ts: event!.ts,
      url: "/?device=van-1",
    });
    // Not for anyone else: another browser's keys cannot read it.
    expect(() => ps.browser().decrypt(message!.body)).toThrow();

    // The browser unsubscribed behind our back: the push service says 410, and it is forgotten.
    ps.respond = () => 410;
    await sos(van);
    await waitFor(() => ps.messages.length >= 2, { what: "the second message" });
    await waitFor(async () => (await subscriptions(admin)).length === 0, {
      what: "the gone subscription removed",
    });
  });

  it("pushes a viewer only events of devices they see; nobody sees or removes another's browser", async () => {
    const server = await bed.start({ webhookAllowPrivate: true });
    const ps = await pushService();
    const mine = await bed.device("mine");
    const theirs = await bed.device("theirs");
    await sos(mine); // both devices exist before the grant names them
    await sos(theirs);
    const add = await post(admin, "/api/admin/users", {
      name: "viewer",
      password: "viewer-password",
      role: "viewer",
      devices: ["mine"],
    });
    expect(add.status).toBe(201);
    const cookie = await signIn(server.url, "viewer", "viewer-password");
    const viewer: As = (path, init = {}) =>
      fetch(`${server.url}${path}`, { ...init, headers: { ...init.headers, cookie } });
    const viewersBrowser = ps.browser();
    const viewersSub = await subscribe(viewer, viewersBrowser);
    const adminsBrowser = ps.browser();
    const adminsSub = await subscribe(admin, adminsBrowser);
    expect(await subscriptions(viewer)).toEqual([viewersSub]);
    expect((await post(viewer, "/api/rules", { name: "all I see", push: true })).status).toBe(201);
    expect((await post(admin, "/api/rules", { name: "all", push: true })).status).toBe(201);

    // Another's subscription answers like none, and stays.
    const del = await viewer(`/api/push/subscriptions/${adminsSub.id}`, { method: "DELETE" });
    expect(del.status).toBe(404);
    expect(await subscriptions(admin)).toEqual([adminsSub]);

    await sos(theirs);
    await sos(mine);
    const to = (browser: TestBrowser) =>
      ps.messages
        .filter((m) => m.path === new URL(browser.endpoint).pathname)
        .map((m) => browser.decrypt(m.body).deviceId);
    // The admin's browser hears of both (so both events were fanned out); the viewer's of theirs.
    await waitFor(() => to(adminsBrowser).length >= 2 && to(viewersBrowser).length >= 1, {
      what: "the pushes",
    });
    expect(to(adminsBrowser).sort()).toEqual(["mine", "theirs"]);
    expect(to(viewersBrowser)).toEqual(["mine"]);

    // Their own goes, on both sides.
    const own = await viewer(`/api/push/subscriptions/${viewersSub.id}`, { method: "DELETE" });
    expect(own.status).toBe(204);
    expect(await subscriptions(viewer)).toEqual([]);
  });

  it("refuses bad subscriptions and channel-less rules, naming the field, and stores nothing", async () => {
    await bed.start();
    const ps = await pushService();
    const good = ps.browser().toJSON();
    const https = { ...good, endpoint: "https://push.example.com/abc" };
    const cases: [body: unknown, field: string, rule: RegExp][] = [
      [{ keys: good.keys }, "endpoint", /required/],
      [{ ...https, endpoint: "ftp://push.example.com/x" }, "endpoint", /http/],
      [good, "endpoint", /https:\/\//], // plain http, private addresses not allowed
      [{ ...https, endpoint: "https://127.0.0.1/x" }, "endpoint", /127\.0\.0\.1/],
      [{ ...https, keys: { ...good.keys, p256dh: "BAAA" } }, "keys.p256dh", /65 bytes/],
      [
        { ...https, keys: { ...good.keys, p256dh: `A${good.keys.p256dh.slice(1)}` } },
        "keys.p256dh",
        /0x04/,
      ],
      [{ ...https, keys: { p256dh: good.keys.p256dh, auth: "short" } }, "keys.auth", /16 bytes/],
      [{ ...https, keys: { p256dh: good.keys.p256dh } }, "keys.auth", /./],
      [{ ...https, keys: "none" }, "keys", /p256dh and auth/],
    ];
    for (const [body, field, rule] of cases) {
      const res = await post(admin, "/api/push/subscriptions", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { field: string; message: string } };
      expect(error.field, JSON.stringify(body)).toBe(field);
      expect(JSON.stringify(error), JSON.stringify(body)).toMatch(rule);
    }
    expect(await subscriptions(admin)).toEqual([]);
    // Signed out: nothing, not even the key.
    for (const path of ["/api/push/key", "/api/push/subscriptions"]) {
      expect((await fetch(`${bed.server.url}${path}`)).status, path).toBe(401);
    }
    const anonymous = await fetch(`${bed.server.url}/api/push/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(https),
    });
    expect(anonymous.status).toBe(401);

    const noChannel = await post(admin, "/api/rules", { name: "nowhere" });
    expect(noChannel.status).toBe(400);
    expect((await noChannel.json()).error).toMatchObject({ field: "webhooks" });
    const pushOff = await post(admin, "/api/rules", { name: "nowhere", webhooks: [], push: false });
    expect((await pushOff.json()).error).toMatchObject({ field: "webhooks" });
    const rules = await (await admin("/api/rules")).json();
    expect(rules).toEqual({ rules: [] });
    // A rule that pushes cannot be changed into one that sends nowhere.
    const ok = await post(admin, "/api/rules", { name: "pushing", push: true });
    const { id } = (await ok.json()) as { id: number };
    const off = await admin(`/api/rules/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ push: false }),
    });
    expect(off.status).toBe(400);
    expect((await off.json()).error).toMatchObject({ field: "webhooks" });
  });

  it("keeps its VAPID key pair across a restart on the same database", async () => {
    const first = await startTestLocus();
    cleanup.push(() => first.dispose());
    const key = async (server: typeof first) =>
      ((await (await server.fetch("/api/push/key")).json()) as { publicKey: string }).publicKey;
    const before = await key(first);
    await first.stop();
    const second = await startTestLocus({}, { db: first.db });
    cleanup.push(() => second.dispose());
    expect(await key(second)).toBe(before);
  });
});
