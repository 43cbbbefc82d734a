import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket as ServerSocket } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";
import type {
  DeviceClientToServer,
  DeviceServerToClient,
  Position,
  ReportAck,
} from "../../protocol/index.ts";
import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientError,
  type DeviceClientOptions,
} from "../../simulator/device-client.ts";
import { startFleet } from "../../simulator/fleet.ts";

/** The device client and the fleet runner against a real socket.io server made in the test. */

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

// ---- device client against a real socket.io server ------------------------------------------

interface Report {
  socket: ServerSocket<DeviceClientToServer, DeviceServerToClient>;
  positions: Position[];
  /** 1-based count of reports this server has received. */
  n: number;
  /** Store the positions like Locus does ((device, ts) unique) and build the ok ack. */
  store: () => ReportAck;
  ack: (result: ReportAck) => void;
}

interface TestServer {
  url: string;
  io: Server<DeviceClientToServer, DeviceServerToClient>;
  /** Stored timestamps per device, in the order they were first stored. */
  stored: Map<string, number[]>;
  close: () => Promise<void>;
}

const servers: TestServer[] = [];
const clients: DeviceClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(
  handle: (report: Report) => void = (r) => r.ack(r.store()),
): Promise<TestServer> {
  const http = createServer();
  const io = new Server<DeviceClientToServer, DeviceServerToClient>(http);
  const stored = new Map<string, number[]>();
  let n = 0;
  io.of("/device").on("connection", (socket) => {
    const deviceId = String(socket.handshake.auth.deviceId);
    socket.on("position:report", (payload, ack) => {
      const positions = Array.isArray(payload) ? payload : [payload];
      const store = (): ReportAck => {
        const list = stored.get(deviceId) ?? [];
        stored.set(deviceId, list);
        let duplicates = 0;
        for (const p of positions) {
          if (list.includes(p.ts)) duplicates++;
          else list.push(p.ts);
        }
        return { ok: true, accepted: positions.length - duplicates, duplicates, rejected: [] };
      };
      handle({ socket, positions, n: ++n, store, ack });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const server: TestServer = {
    url: `http://127.0.0.1:${port}`,
    io,
    stored,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
  servers.push(server);
  return server;
}

function client(url: string, options: Partial<DeviceClientOptions> = {}): DeviceClient {
  const c = createDeviceClient({
    url,
    deviceId: "dev-1",
    ackTimeoutMs: 2_000,
    ...options,
    // Fast reconnects keep the tests quick.
    ioOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50, ...options.ioOptions },
  });
  clients.push(c);
  return c;
}

const position = (i: number): Position => ({ ts: T0 + i * 1000, lat: 52.5, lon: 13.4 });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const tsOf = (is: number[]) => is.map((i) => position(i).ts);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("device client", () => {
  it("delivers every position once, in order, in batches of at most maxBatch", async () => {
    const sizes: number[] = [];
    const server = await startServer((r) => {
      sizes.push(r.positions.length);
      r.ack(r.store());
    });
    const c = client(server.url, { maxBatch: 500 });
    for (const i of range(0, 1200)) c.push(position(i));
    expect(await c.flush(5_000)).toBe(true);
    for (const i of range(1200, 1300)) c.push(position(i));
    expect(await c.flush(5_000)).toBe(true);

    expect(server.stored.get("dev-1")).toEqual(tsOf(range(0, 1300)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
    expect(c.stats).toMatchObject({
      pushed: 1300,
      sent: 1300,
      resent: 0,
      acked: 1300,
      accepted: 1300,
      duplicates: 0,
      dropped: 0,
      buffered: 0,
      inFlight: 0,
      connected: true,
    });
    expect(c.stats.maxWaitMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ["the server closes the socket", (s: Report["socket"]) => s.disconnect(true)],
    ["the connection drops", (s: Report["socket"]) => s.conn.close()],
  ])(
    "resends the unacknowledged batch after a disconnect (%s), in order, without loss",
    async (_, cut) => {
      // The first report is committed but its ack is lost with the connection.
      const server = await startServer((r) => {
        const ack = r.store();
        if (r.n === 1) cut(r.socket);
        else r.ack(ack);
      });
      const c = client(server.url);
      const events: string[] = [];
      c.on("connect", () => events.push("connect"));
      c.on("disconnect", () => events.push("disconnect"));
      for (const i of range(0, 5)) c.push(position(i));
      await sleep(100);
      for (const i of range(5, 10)) c.push(position(i)); // pushed during the outage
      expect(await c.flush(5_000)).toBe(true);

      expect(server.stored.get("dev-1")).toEqual(tsOf(range(0, 10)));
      expect(events.slice(0, 3)).toEqual(["connect", "disconnect", "connect"]);
      const stats = c.stats;
      expect(stats.resent).toBeGreaterThan(0);
      expect(stats.duplicates).toBe(stats.resent); // the lost batch had been stored
      expect(stats.acked).toBe(10);
      expect(stats.accepted + stats.duplicates).toBe(10);
      expect(stats.dropped).toBe(0);
    },
  );

  it("resends a batch whose ack timed out, and reports the timeout", async () => {
    const server = await startServer((r) => {
      const ack = r.store();
      if (r.n > 1) r.ack(ack); // the first ack never comes
    });
    const c = client(server.url, { ackTimeoutMs: 200 });
    const errors: DeviceClientError[] = [];
    c.on("error", (err) => errors.push(err));
    for (const i of range(0, 3)) c.push(position(i));
    expect(await c.flush(5_000)).toBe(true);
    expect(server.stored.get("dev-1")).toEqual(tsOf(range(0, 3)));
    expect(errors.map((e) => [e.code, e.retrying])).toEqual([["ack_timeout", true]]);
    // The server had stored the batch before its ack went missing.
    expect(c.stats).toMatchObject({ acked: 3, accepted: 0, duplicates: 3, resent: 3, errors: 1 });
  });

  it("retries a batch refused with a retryable code, and drops one refused for good", async () => {
    const server = await startServer((r) => {
      if (r.n === 1) r.ack({ ok: false, error: { code: "rate_limited", message: "slow down" } });
      else if (r.n === 3) r.ack({ ok: false, error: { code: "invalid_payload", message: "bad" } });
      else r.ack(r.store());
    });
    const c = client(server.url);
    const errors: string[] = [];
    c.on("error", (err) => errors.push(`${err.code}:${err.retrying}`));
    c.push(position(0));
    expect(await c.flush(5_000)).toBe(true); // reports 1 (rate limited) and 2 (stored)
    c.push(position(1)); // report 3: refused for good
    c.push(position(2)); // report 4: the client moves on
    expect(await c.flush(5_000)).toBe(true);

    expect(server.stored.get("dev-1")).toEqual(tsOf([0, 2]));
    expect(errors).toEqual(["rate_limited:true", "invalid_payload:false"]);
    expect(c.stats).toMatchObject({ pushed: 3, acked: 3, accepted: 2, rejected: 1, resent: 1 });
  });

  it("keeps the batch and retries when the ack is malformed", async () => {
    const server = await startServer((r) => {
      const ack = r.store();
      if (r.n === 1) (r.ack as (reply: unknown) => void)("thanks");
      else r.ack(ack);
    });
    const c = client(server.url);
    const errors: string[] = [];
    c.on("error", (err) => errors.push(err.code));
    c.push(position(0));
    expect(await c.flush(5_000)).toBe(true);
    expect(errors).toEqual(["invalid_ack"]);
    expect(c.stats).toMatchObject({ acked: 1, duplicates: 1, resent: 1 });
  });

  it("bounds its buffer: drops the oldest, counts the drops and warns once", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startServer();
    server.io.of("/device").use((_socket, next) => void gate.then(() => next()));
    const c = client(server.url, { maxBuffered: 5 });
    const warnings: string[] = [];
    c.on("warning", (message) => warnings.push(message));
    for (const i of range(0, 12)) c.push(position(i));

    expect(c.stats).toMatchObject({ pushed: 12, dropped: 7, buffered: 5, connected: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/buffer full/);
    expect(await c.flush(100)).toBe(false); // nothing can leave yet

    open();
    expect(await c.flush(5_000)).toBe(true);
    expect(server.stored.get("dev-1")).toEqual(tsOf(range(7, 12)));
    expect(c.stats).toMatchObject({ acked: 5, dropped: 7, buffered: 0 });
  });

  it("reconnects after the server restarts and delivers what piled up meanwhile", async () => {
    const first = await startServer();
    const c = client(first.url);
    c.push(position(0));
    expect(await c.flush(5_000)).toBe(true);
    const port = new URL(first.url).port;
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    for (const i of range(1, 20)) c.push(position(i));
    await sleep(50);
    expect(c.stats.connected).toBe(false);

    const http = createServer();
    const io = new Server<DeviceClientToServer, DeviceServerToClient>(http);
    const received: number[] = [];
    io.of("/device").on("connection", (socket) => {
      socket.on("position:report", (payload, ack) => {
        const positions = Array.isArray(payload) ? payload : [payload];
        received.push(...positions.map((p) => p.ts));
        ack({ ok: true, accepted: positions.length, duplicates: 0, rejected: [] });
      });
    });
    await new Promise<void>((resolve) => http.listen(Number(port), "127.0.0.1", resolve));
    try {
      expect(await c.flush(5_000)).toBe(true);
      expect(received).toEqual(tsOf(range(1, 20)));
    } finally {
      c.close();
      await new Promise<void>((resolve) => void io.close(() => resolve()));
    }
  });

  it("close() disconnects, and a pending flush resolves false", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startServer();
    server.io.of("/device").use((_socket, next) => void gate.then(() => next()));
    const c = client(server.url);
    c.push(position(0));
    const flushed = c.flush(5_000);
    c.close();
    expect(await flushed).toBe(false);
    expect(c.stats).toMatchObject({ connected: false, buffered: 1 });
    expect(() => c.push(position(1))).toThrow(/closed/);
    open();
  });
});

describe("fleet", () => {
  it("reports every vehicle on a staggered schedule under ids sim-0001…, and flushes on stop", async () => {
    const server = await startServer();
    const fleet = startFleet({
      url: server.url,
      vehicles: 8,
      intervalMs: 200,
      seed: 3,
      durationMs: 1_000,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    expect(fleet.deviceIds).toEqual(range(1, 9).map((i) => `sim-000${i}`));
    const summary = await fleet.done;

    expect(summary).toMatchObject({
      vehicles: 8,
      pushed: 40,
      acked: 40,
      accepted: 40,
      dropped: 0,
      unacked: 0,
      flushed: true,
    });
    expect([...server.stored.keys()].sort()).toEqual(fleet.deviceIds);
    const firsts: number[] = [];
    for (const [id, ts] of server.stored) {
      expect(ts).toHaveLength(5);
      // On schedule: exactly one interval apart, whatever the timer's jitter.
      expect(ts.slice(1).map((t, k) => t - ts[k]!)).toEqual([200, 200, 200, 200]);
      firsts.push(ts[0]!);
      // The last fix reported is the vehicle's true position plus a few metres of noise.
      const vehicle = fleet.vehicles[fleet.deviceIds.indexOf(id)]!;
      expect(vehicle.time).toBe(ts[4]);
    }
    // Staggered: every vehicle reports at its own offset within the interval.
    firsts.sort((a, b) => a - b);
    expect(new Set(firsts).size).toBe(8);
    expect(firsts[7]! - firsts[0]!).toBeLessThan(200);
    expect(await fleet.stop()).toEqual(summary);
  });

  it("counts connected vehicles and rates in stats()", async () => {
    const server = await startServer();
    const fleet = startFleet({
      url: server.url,
      vehicles: 5,
      intervalMs: 100,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    try {
      await sleep(200);
      fleet.stats();
      await sleep(600);
      const stats = fleet.stats();
      expect(stats.vehicles).toBe(5);
      expect(stats.connected).toBe(5);
      expect(stats.sentPerSec).toBeGreaterThan(20);
      expect(stats.ackedPerSec).toBeGreaterThan(20);
      expect(stats.errors).toBe(0);
    } finally {
      const summary = await fleet.stop();
      expect(summary.acked).toBe(summary.pushed);
    }
  });
});
