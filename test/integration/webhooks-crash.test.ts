import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import type { Webhook } from "../../protocol/notifications.ts";
import {
  connectDevice,
  report,
  signIn,
  TEST_ADMIN_PASSWORD,
  waitFor,
  type DeviceSocket,
} from "../support/locus.ts";
import { freePort, spawnServer } from "../support/server-process.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-db.ts";
import { validSignature, WebhookReceiver } from "../support/webhook-receiver.ts";

/**
 * The outbox survives a SIGKILL: the server dies with requests in flight (the receiver holds
 * them) and more events waiting behind them; after the restart every event reaches the receiver,
 * any one twice only with the same Idempotency-Key.
 */

const DEPOT = { lat: 52.52, lon: 13.405 };
const east = (m: number) => DEPOT.lon + m / (111_320 * Math.cos((DEPOT.lat * Math.PI) / 180));

let child: ChildProcess | null = null;
let database: TestDatabase | null = null;
const rx = new WebhookReceiver();
const sockets: DeviceSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  child?.kill("SIGKILL");
  child = null;
  await rx.close();
  await database?.drop();
  database = null;
});

describe("webhook outbox across a crash", () => {
  it("loses no event when the server is SIGKILLed during deliveries", async () => {
    database = await createTestDatabase();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = () =>
      spawnServer({
        port,
        db: database!.db,
        env: { LOCUS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD },
        args: [
          "--open-registration",
          "--webhook-allow-private",
          "--webhook-retry-base-ms",
          "50",
          "--geofence-hysteresis-m",
          "0",
          // The drives are hours old: after the restart both devices would rightly be offline.
          "--offline-minutes",
          "0",
        ],
      });
    child = await start();
    let cookie = await signIn(url, "admin", TEST_ADMIN_PASSWORD);
    const api = (path: string, body?: unknown) =>
      fetch(`${url}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { cookie, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    // The receiver takes every request and answers none: they stay in flight.
    await rx.listen();
    rx.respond = () => "stall";
    const fence = await api("/api/geofences", {
      name: "zone",
      shape: { type: "circle", center: DEPOT, radius: 100 },
    });
    expect(fence.status).toBe(201);
    const hook = (await (await api("/api/webhooks", { url: rx.url })).json()) as Webhook;
    expect((await api("/api/rules", { name: "all", webhooks: [hook.id] })).status).toBe(201);

    let ts = Date.now() - 3 * 3_600_000;
    const drive = async (device: DeviceSocket, crossings: number) => {
      for (let i = 0; i <= crossings; i++) {
        ts += 100_000;
        const lon = east(i % 2 === 0 ? -800 : 800);
        expect((await report(device, { ts, lat: DEPOT.lat, lon, speed: 16 })).ok).toBe(true);
      }
    };
    const a = await connectDevice(url, "crash-a");
    const b = await connectDevice(url, "crash-b");
    sockets.push(a, b);
    await drive(a, 3);
    await drive(b, 2);
    const events = async () =>
      ((await (await api("/api/events?limit=500")).json()) as { events: FleetEvent[] }).events;
    await waitFor(async () => (await events()).length === 10, { what: "ten events" });
    // Each device's first event is in flight, the rest wait behind it.
    await waitFor(() => rx.received.length === 2, { what: "two requests in flight" });

    child.kill("SIGKILL");
    await new Promise((resolve) => child!.once("exit", resolve));
    for (const s of sockets.splice(0)) s.close();
    rx.release(); // too late: the server that sent them is gone
    rx.respond = () => 200;

    child = await start();
    cookie = await signIn(url, "admin", TEST_ADMIN_PASSWORD);
    const stored = (await events()).reverse();
    expect(stored).toHaveLength(10);
    await waitFor(() => new Set(rx.accepted().map((r) => r.body.id)).size === stored.length, {
      what: "every event delivered after the restart",
      timeoutMs: 15_000,
    });
    const got = rx.accepted();
    expect([...new Set(got.map((r) => r.body.id))].sort((x, y) => Number(x) - Number(y))).toEqual(
      stored.map((e) => e.id),
    );
    for (const r of rx.received) {
      // A copy sent twice carries the same key, body and signature.
      expect(r.headers["idempotency-key"]).toBe(String(r.body.id));
      expect(validSignature(r, hook.secret)).toBe(true);
    }
    // In order per device, counting only the first acceptance of each.
    for (const device of ["crash-a", "crash-b"]) {
      const firsts: number[] = [];
      for (const r of got) {
        const id = Number(r.body.id);
        if (r.body.device.id === device && !firsts.includes(id)) firsts.push(id);
      }
      expect(firsts).toEqual(stored.filter((e) => e.deviceId === device).map((e) => e.id));
    }
    // The log is settled after each answer arrives (in batches): it may be a step behind.
    const log = await waitFor(
      async () => {
        const reply = (await (await api(`/api/webhooks/${hook.id}/deliveries`)).json()) as {
          deliveries: { status: string }[];
        };
        return reply.deliveries.every((d) => d.status === "delivered") ? reply : null;
      },
      { what: "every delivery settled in the log", timeoutMs: 10_000 },
    );
    expect(log.deliveries).toHaveLength(10);
  });
});
