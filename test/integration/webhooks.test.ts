import { afterEach, describe, expect, it } from "vitest";
import type { FleetEvent, Geofence } from "../../protocol/geofence.ts";
import type {
  Delivery,
  NotificationRule,
  Webhook,
  WebhookTestResult,
} from "../../protocol/notifications.ts";
import { report, signIn, useTestBed, waitFor, type DeviceSocket } from "../support/locus.ts";
import { validSignature, WebhookReceiver } from "../support/webhook-receiver.ts";

/**
 * Notification rules and webhooks (issue #14, "Rules and delivery"): events reach a real HTTP
 * receiver signed, in order per device, through a receiver outage; viewers get only what they
 * may see; bad requests name their field and store nothing.
 */
const bed = useTestBed();
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().listen();
  receivers.push(r);
  return r;
}

const DEPOT = { lat: 52.52, lon: 13.405 };
const east = (m: number) => DEPOT.lon + m / (111_320 * Math.cos((DEPOT.lat * Math.PI) / 180));

type As = (path: string, init?: RequestInit) => Promise<Response>;
const admin: As = (path, init) => bed.server.fetch(path, init);

function post(as: As, path: string, body: unknown, method = "POST"): Promise<Response> {
  return as(path, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function created<T>(res: Promise<Response>): Promise<T> {
  const r = await res;
  if (r.status !== 201) throw new Error(`expected 201, got ${r.status}: ${await r.text()}`);
  return (await r.json()) as T;
}

async function addFence(name: string, radius = 100): Promise<Geofence> {
  return created(
    post(admin, "/api/geofences", { name, shape: { type: "circle", center: DEPOT, radius } }),
  );
}

/** Fix times go forward across every pass of every device, 100 s a fix (under the 5 min gap). */
let clock = Date.now() - 3 * 3_600_000;
const sides = new Map<DeviceSocket, number>();

/**
 * Through the fence to its other side: an enter and an exit, on the move between two fixes. A
 * device's first pass starts it on the west side.
 */
async function pass(device: DeviceSocket): Promise<void> {
  const at = async (side: number) => {
    clock += 100_000;
    const ack = await report(device, {
      ts: clock,
      lat: DEPOT.lat,
      lon: east(800 * side),
      speed: 16,
    });
    expect(ack.ok).toBe(true);
    sides.set(device, side);
  };
  if (!sides.has(device)) await at(-1);
  await at(-sides.get(device)!);
}

async function allEvents(as: As = admin): Promise<FleetEvent[]> {
  await bed.server.locus.services.events.idle();
  const res = await as("/api/events?limit=500");
  return ((await res.json()) as { events: FleetEvent[] }).events.reverse();
}

async function deliveries(as: As, webhook: number): Promise<Delivery[]> {
  const res = await as(`/api/webhooks/${webhook}/deliveries?limit=500`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { deliveries: Delivery[] }).deliveries;
}

describe("webhooks", () => {
  it("sends enter then exit, signed, with the event id as idempotency key; logs it; sends a test", async () => {
    await bed.start({ webhookAllowPrivate: true, geofenceHysteresisM: 0 });
    const rx = await receiver();
    const fence = await addFence("gate");
    const hook = await created<Webhook>(post(admin, "/api/webhooks", { url: rx.url }));
    expect(hook.secret).toMatch(/^lcw_/);
    const rule = await created<NotificationRule>(
      post(admin, "/api/rules", {
        name: "gate crossings",
        types: ["geofence_enter", "geofence_exit"],
        geofences: [fence.id],
        webhooks: [hook.id],
      }),
    );
    expect(rule).toMatchObject({ devices: [], groups: [], hours: null, webhooks: [hook.id] });

    const van = await bed.device("van-1");
    await pass(van);
    await waitFor(() => rx.accepted().length >= 2, { what: "two deliveries" });
    const got = rx.accepted();
    expect(got.map((r) => r.body.event.type)).toEqual(["geofence_enter", "geofence_exit"]);
    const stored = await allEvents();
    expect(got.map((r) => r.body.id)).toEqual(stored.map((e) => e.id));
    for (const r of got) {
      expect(validSignature(r, hook.secret)).toBe(true);
      expect(validSignature(r, "another secret")).toBe(false);
      expect(r.headers["idempotency-key"]).toBe(String(r.body.event.id));
      expect(r.headers["x-locus-event"]).toBe(r.body.event.type);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.body.device).toEqual({ id: "van-1", name: null });
      expect(r.body.event).toMatchObject({ deviceId: "van-1", geofenceId: fence.id });
    }

    const log = await deliveries(admin, hook.id);
    expect(log.map((d) => [d.eventType, d.status, d.attempts, d.lastStatus])).toEqual([
      ["geofence_exit", "delivered", 1, 200],
      ["geofence_enter", "delivered", 1, 200],
    ]);

    const test = await post(admin, `/api/webhooks/${hook.id}/test`, {});
    expect(test.status).toBe(200);
    const result = (await test.json()) as WebhookTestResult;
    expect(result).toMatchObject({ ok: true, status: 200, error: null });
    const sample = rx.received.at(-1)!;
    expect(sample.body).toMatchObject({ test: true });
    expect(sample.headers["x-locus-event"]).toBe("test");
    expect(validSignature(sample, hook.secret)).toBe(true);
    // A test is not an event: the log is unchanged.
    expect(await deliveries(admin, hook.id)).toHaveLength(2);

    // A receiver that answers with an error says so in the test's result.
    rx.respond = () => 500;
    const failed = (await (
      await post(admin, `/api/webhooks/${hook.id}/test`, {})
    ).json()) as WebhookTestResult;
    expect(failed).toMatchObject({ ok: false, status: 500 });
    expect(failed.error).toMatch(/^HTTP 500/);
  });

  it("delivers every event after the receiver was down, in order per device, retrying", async () => {
    await bed.start({ webhookAllowPrivate: true, geofenceHysteresisM: 0, webhookRetryBaseMs: 50 });
    const rx = await receiver();
    await addFence("zone");
    const hook = await created<Webhook>(post(admin, "/api/webhooks", { url: rx.url }));
    await created(post(admin, "/api/rules", { name: "everything", webhooks: [hook.id] }));

    // Down: nothing listens on the port.
    await rx.close();
    const a = await bed.device("truck-a");
    const b = await bed.device("truck-b");
    for (let i = 0; i < 3; i++) {
      await pass(a);
      await pass(b);
    }
    const events = await allEvents();
    expect(events).toHaveLength(12);
    // Each lane's head is retried while the ones behind it wait.
    await waitFor(
      async () => {
        const log = await deliveries(admin, hook.id);
        return log.length === 12 && log.filter((d) => d.attempts >= 3).length === 2;
      },
      { what: "three failed attempts at each device's first event", timeoutMs: 10_000 },
    );
    const waiting = await deliveries(admin, hook.id);
    expect(waiting.every((d) => d.status === "pending")).toBe(true);
    expect(waiting.filter((d) => d.attempts > 0)).toHaveLength(2);
    expect(waiting.find((d) => d.attempts > 0)!.lastError).toMatch(/ECONNREFUSED/);

    // Up, but failing for a while: 503s count as failures too.
    await rx.listen();
    rx.respond = () => 503;
    await waitFor(() => rx.received.length >= 4, { what: "503s", timeoutMs: 10_000 });
    rx.respond = () => 200;

    await waitFor(() => rx.accepted().length >= 12, { what: "every event", timeoutMs: 20_000 });
    const got = rx.accepted();
    expect(got.map((r) => r.body.id).sort((x, y) => Number(x) - Number(y))).toEqual(
      events.map((e) => e.id),
    );
    for (const device of ["truck-a", "truck-b"]) {
      const sent = got.filter((r) => r.body.device.id === device).map((r) => r.body.event);
      const expected = events.filter((e) => e.deviceId === device);
      expect(sent.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expect(sent.map((e) => e.type)).toEqual([
        "geofence_enter",
        "geofence_exit",
        "geofence_enter",
        "geofence_exit",
        "geofence_enter",
        "geofence_exit",
      ]);
    }
    // Nothing was refused by the receiver yet reported delivered, nor sent out of turn: a device's
    // later event never reached the receiver before its earlier one was accepted.
    for (const device of ["truck-a", "truck-b"]) {
      const arrivals = rx.received.filter((r) => r.body.device.id === device);
      let accepted = 0;
      for (const r of arrivals) {
        const index = events
          .filter((e) => e.deviceId === device)
          .findIndex((e) => e.id === r.body.id);
        expect(index).toBe(accepted);
        if (r.status === 200) accepted++;
      }
    }
    for (const r of got) expect(validSignature(r, hook.secret)).toBe(true);

    // The log is settled after the answer arrives (in batches): the receiver may be a step ahead.
    const log = await waitFor(
      async () => {
        const rows = await deliveries(admin, hook.id);
        return rows.every((d) => d.status === "delivered") ? rows : null;
      },
      { what: "every delivery settled in the log", timeoutMs: 10_000 },
    );
    expect(log.every((d) => d.lastStatus === 200)).toBe(true);
    expect(log.filter((d) => d.attempts > 1).length).toBeGreaterThanOrEqual(2);
    // A retried event went with the same body and key every time.
    const retried = rx.received.filter((r) => r.body.id === got[0]!.body.id);
    expect(new Set(retried.map((r) => r.raw)).size).toBe(1);
    expect(new Set(retried.map((r) => r.headers["idempotency-key"])).size).toBe(1);
  });

  it("offers a rule the groups its user sees: granted, or holding a device they see", async () => {
    const server = await bed.start();
    for (const name of ["north", "south", "spare"]) {
      expect((await post(admin, "/api/admin/groups", { name })).status).toBe(201);
    }
    for (const [device, group] of [
      ["a", "north"],
      ["b", "south"],
    ] as const) {
      await bed.device(device);
      const res = await post(admin, `/api/admin/devices/${device}`, { groups: [group] }, "PATCH");
      expect(res.status).toBe(200);
    }
    const add = await post(admin, "/api/admin/users", {
      name: "viewer",
      password: "viewer-password",
      role: "viewer",
      devices: ["a"],
      groups: ["spare"],
    });
    expect(add.status).toBe(201);
    const cookie = await signIn(server.url, "viewer", "viewer-password");
    const groupsOf = async (as: As) =>
      ((await (await as("/api/rules/groups")).json()) as { groups: string[] }).groups.sort();
    const viewer: As = (path, init = {}) =>
      fetch(`${server.url}${path}`, { ...init, headers: { ...init.headers, cookie } });
    expect(await groupsOf(viewer)).toEqual(["north", "spare"]);
    expect(await groupsOf(admin)).toEqual(["north", "south", "spare"]);
  });

  it("sends a viewer only events of devices they may see, and stops when the grant goes", async () => {
    const server = await bed.start({ webhookAllowPrivate: true, geofenceHysteresisM: 0 });
    const rx = await receiver();
    await addFence("zone");
    const mine = await bed.device("mine");
    const theirs = await bed.device("theirs");
    await pass(mine); // both devices exist before the grant names them
    await pass(theirs);
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

    const hook = await created<Webhook>(post(viewer, "/api/webhooks", { url: rx.url }));
    // A device they may not see is refused like an unknown one.
    const refused = await post(viewer, "/api/rules", {
      name: "theirs",
      devices: ["theirs"],
      webhooks: [hook.id],
    });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatchObject({ field: "devices.0" });
    // Any device: still only the ones they see.
    await created(post(viewer, "/api/rules", { name: "all I see", webhooks: [hook.id] }));
    // The admin's own webhook and rule, for comparison: every device.
    const adminRx = await receiver();
    const adminHook = await created<Webhook>(post(admin, "/api/webhooks", { url: adminRx.url }));
    await created(post(admin, "/api/rules", { name: "all", webhooks: [adminHook.id] }));
    // Webhooks are their owner's alone.
    expect((await viewer("/api/webhooks")).status).toBe(200);
    expect(
      ((await (await viewer("/api/webhooks")).json()) as { webhooks: Webhook[] }).webhooks,
    ).toHaveLength(1);
    expect((await admin(`/api/webhooks/${hook.id}/deliveries`)).status).toBe(404);
    expect((await admin(`/api/webhooks/${hook.id}`, { method: "DELETE" })).status).toBe(404);

    await pass(mine);
    await pass(theirs);
    await waitFor(() => adminRx.accepted().length >= 4, { what: "the admin's four events" });
    await waitFor(() => rx.accepted().length >= 2, { what: "the viewer's two events" });
    await server.locus.services.webhookDelivery.fanOut();
    expect(new Set(rx.accepted().map((r) => r.body.device.id))).toEqual(new Set(["mine"]));
    expect(rx.accepted()).toHaveLength(2);

    // The grant withdrawn: the viewer's webhook gets nothing more, the admin's goes on.
    const revoke = await post(
      admin,
      "/api/admin/users/viewer",
      { role: "viewer", devices: [] },
      "PATCH",
    );
    expect(revoke.status).toBe(200);
    await pass(mine);
    await waitFor(() => adminRx.accepted().length >= 6, { what: "the admin's next two events" });
    await server.locus.services.webhookDelivery.fanOut();
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(2);
    expect(await deliveries(viewer, hook.id)).toHaveLength(2);
  });

  it("refuses bad webhooks and rules, naming the field, and stores nothing", async () => {
    await bed.start({ geofenceHysteresisM: 0 });
    const fence = await addFence("zone");
    const refuse = async (path: string, body: unknown, field: string, message?: RegExp) => {
      const res = await post(admin, path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { field: string; message: string } };
      expect(error.field).toBe(field);
      if (message) expect(error.message).toMatch(message);
    };
    await refuse("/api/webhooks", { url: "ftp://example.com/hook" }, "url", /http/);
    await refuse("/api/webhooks", { url: "not a url" }, "url");
    await refuse("/api/webhooks", {}, "url", /required/);
    // Loopback, private and link-local addresses, unless an admin allows them.
    for (const url of [
      "http://127.0.0.1:9/hook",
      "http://localhost:9/hook",
      "http://[::1]:9/hook",
      "http://10.1.2.3/hook",
      "https://192.168.1.10/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://[::ffff:127.0.0.1]/hook",
    ]) {
      await refuse("/api/webhooks", { url }, "url", /loopback, private or link-local/);
    }
    expect(((await (await admin("/api/webhooks")).json()) as { webhooks: [] }).webhooks).toEqual(
      [],
    );

    // A webhook to name: one on a public address (never called here: no event matches).
    const hook = await created<Webhook>(
      post(admin, "/api/webhooks", { url: "http://203.0.114.1/" }),
    );
    const rule = { name: "r", webhooks: [hook.id] };
    await refuse(
      "/api/rules",
      { ...rule, geofences: [fence.id + 100] },
      "geofences.0",
      /no geofence/,
    );
    await refuse("/api/rules", { ...rule, devices: ["ghost"] }, "devices.0", /no device/);
    await refuse("/api/rules", { ...rule, groups: ["nobody"] }, "groups.0", /no group/);
    await refuse("/api/rules", { ...rule, webhooks: [hook.id + 1] }, "webhooks.0", /no webhook/);
    await refuse("/api/rules", { ...rule, webhooks: [] }, "webhooks", /at least one/);
    await refuse("/api/rules", { ...rule, types: ["teleport"] }, "types.0");
    await refuse("/api/rules", { ...rule, hours: { from: "25:00", to: "06:00" } }, "hours.from");
    await refuse("/api/rules", { ...rule, hours: { from: "08:00", to: "8pm" } }, "hours.to");
    await refuse("/api/rules", { ...rule, hours: { from: "08:00", to: "08:00" } }, "hours.to");
    await refuse(
      "/api/rules",
      { ...rule, hours: { from: "08:00", to: "18:00", days: [0] } },
      "hours.days.0",
    );
    await refuse(
      "/api/rules",
      { ...rule, hours: { from: "08:00", to: "18:00", timeZone: "Mars/Olympus" } },
      "hours.timeZone",
    );
    await refuse("/api/rules", { ...rule, name: "" }, "name");
    await refuse("/api/rules", { ...rule, colour: "red" }, "colour");
    expect(((await (await admin("/api/rules")).json()) as { rules: [] }).rules).toEqual([]);

    // A good one, then changes to it: a bad change stores nothing either.
    const good = await created<NotificationRule>(
      post(admin, "/api/rules", {
        ...rule,
        hours: { from: "22:00", to: "06:00", days: [5, 6], timeZone: "Europe/Berlin" },
      }),
    );
    expect(good.hours).toEqual({
      from: "22:00",
      to: "06:00",
      days: [5, 6],
      timeZone: "Europe/Berlin",
    });
    const bad = await post(admin, `/api/rules/${good.id}`, { geofences: [999] }, "PATCH");
    expect(bad.status).toBe(400);
    const changed = await post(admin, `/api/rules/${good.id}`, { hours: null }, "PATCH");
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ id: good.id, hours: null, geofences: [] });
    expect((await admin(`/api/rules/${good.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/api/rules/${good.id}`, { method: "DELETE" })).status).toBe(404);
  });
});
