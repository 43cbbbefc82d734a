import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import CheapRuler from "cheap-ruler";
import { Server, type Socket as ServerSocket } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkReport,
  type DeviceClientToServer,
  type DeviceServerToClient,
  type Position,
  type ReportAck,
} from "../../protocol/index.ts";
import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientError,
  type DeviceClientOptions,
} from "../../simulator/device-client.ts";
import { Fifo } from "../../simulator/fifo.ts";
import { startFleet } from "../../simulator/fleet.ts";
import { Random } from "../../simulator/random.ts";
import {
  buildStreetNetwork,
  reachableNodes,
  SPEED_LIMIT,
  type StreetEdge,
} from "../../simulator/streets.ts";
import { Vehicle } from "../../simulator/vehicle.ts";

const BERLIN = { lat: 52.52, lon: 13.405 };
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const network = buildStreetNetwork({ center: BERLIN, seed: 1 });
const ruler = new CheapRuler(BERLIN.lat, "meters");

function drive(seed: number, index: number, steps: number, stepMs = 1000): Position[] {
  const vehicle = new Vehicle({ network, seed, index, startTs: T0 });
  const fixes: Position[] = [];
  for (let k = 0; k < steps; k++) {
    vehicle.step(stepMs);
    fixes.push(vehicle.fix());
  }
  return fixes;
}

/** Step `vehicles` for `minutes` at 1 s, calling `visit` after every step. */
function simulate(
  vehicles: number,
  minutes: number,
  visit: (vehicle: Vehicle, fix: Position) => void,
  streets = network,
): Vehicle[] {
  const fleet = Array.from(
    { length: vehicles },
    (_, i) => new Vehicle({ network: streets, seed: 42, index: i + 1, startTs: T0 }),
  );
  for (const vehicle of fleet) {
    for (let k = 0; k < minutes * 60; k++) {
      vehicle.step(1000);
      visit(vehicle, vehicle.fix());
    }
  }
  return fleet;
}

function angleBetween(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

describe("random streams", () => {
  it("repeat exactly for the same seed and keys, and differ for another seed or key", () => {
    const draw = (r: Random) => Array.from({ length: 50 }, () => r.uniform());
    expect(draw(new Random(7, 2, 1))).toEqual(draw(new Random(7, 2, 1)));
    expect(draw(new Random(7, 2, 1))).not.toEqual(draw(new Random(8, 2, 1)));
    expect(draw(new Random(7, 2, 1))).not.toEqual(draw(new Random(7, 2, 2)));
  });

  it("draw gaussians with the requested mean and spread, and ranges within bounds", () => {
    const r = new Random(1);
    const xs = Array.from({ length: 20_000 }, () => r.gaussian(5, 2));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeCloseTo(5, 1);
    expect(sd).toBeCloseTo(2, 1);
    for (let k = 0; k < 1000; k++) {
      const x = r.range(3, 8);
      expect(x >= 3 && x < 8).toBe(true);
      const n = r.int(1, 3);
      expect([1, 2, 3]).toContain(n);
    }
  });
});

describe("fifo", () => {
  it("behaves like an array queue across growth and wrap-around, front re-insertion included", () => {
    const fifo = new Fifo<number>();
    const model: number[] = [];
    const r = new Random(9);
    let next = 0;
    for (let k = 0; k < 5_000; k++) {
      const op = r.int(0, 3);
      if (op <= 1) {
        fifo.push(next);
        model.push(next++);
      } else if (op === 2) {
        expect(fifo.shift()).toBe(model.shift());
      } else {
        const taken = fifo.take(r.int(0, 40));
        expect(taken).toEqual(model.splice(0, taken.length));
        if (r.chance(0.5)) {
          fifo.unshiftAll(taken);
          model.unshift(...taken);
        }
      }
      expect(fifo.length).toBe(model.length);
    }
    expect(fifo.take(Infinity)).toEqual(model);
  });
});

describe("street network", () => {
  it("is connected: every node can reach every other along directed edges", () => {
    for (const start of [0, 100, network.nodes.length - 1]) {
      expect(reachableNodes(network, start)).toBe(network.nodes.length);
    }
  });

  it("has a grid of residential streets, faster arterials and a ring road linked to them", () => {
    const kinds = new Set(network.edges.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(["arterial", "link", "residential", "ring"]);
    expect(SPEED_LIMIT.ring).toBeGreaterThan(SPEED_LIMIT.arterial);
    expect(SPEED_LIMIT.arterial).toBeGreaterThan(SPEED_LIMIT.residential);
    for (const edge of network.edges) {
      expect(edge.limit).toBe(SPEED_LIMIT[edge.kind]);
      expect(network.edges[edge.reverse]!.reverse).toBe(edge.id);
      expect(edge.length).toBeGreaterThan(50);
    }
    expect(network.nodes.some((n) => n.signal)).toBe(true);
  });

  it("places nodes in degrees consistent with their local metres", () => {
    for (const node of network.nodes) {
      const [lon, lat] = ruler.offset([BERLIN.lon, BERLIN.lat], node.x, node.y);
      expect(node.lat).toBeCloseTo(lat, 9);
      expect(node.lon).toBeCloseTo(lon, 9);
      // Every node lies in the city: within ~5 km of the centre.
      expect(ruler.distance([BERLIN.lon, BERLIN.lat], [node.lon, node.lat])).toBeLessThan(5_000);
    }
  });

  it("is the same for the same seed and different for another", () => {
    const again = buildStreetNetwork({ center: BERLIN, seed: 1 });
    const other = buildStreetNetwork({ center: BERLIN, seed: 2 });
    expect(again.nodes).toEqual(network.nodes);
    expect(again.edges).toEqual(network.edges);
    expect(other.nodes).not.toEqual(network.nodes);
  });
});

describe("vehicle model", () => {
  it("repeats a seeded run exactly, and a different seed drives differently", () => {
    const run = drive(3, 1, 600);
    expect(drive(3, 1, 600)).toEqual(run);
    expect(drive(4, 1, 600)).not.toEqual(run);
    expect(drive(3, 2, 600)).not.toEqual(run);
  });

  it("drives the same path whatever the other vehicles do and however the clock is stepped", () => {
    const alone = drive(5, 3, 300);
    const crowd = [1, 2, 3, 4].map(
      (index) => new Vehicle({ network, seed: 5, index, startTs: T0 }),
    );
    const interleaved: Position[] = [];
    for (let k = 0; k < 300; k++) {
      for (const vehicle of crowd) {
        vehicle.step(1000);
        const fix = vehicle.fix();
        if (vehicle.index === 3) interleaved.push(fix);
      }
    }
    expect(interleaved).toEqual(alone);

    const fine = new Vehicle({ network, seed: 5, index: 3, startTs: T0 });
    const coarse = new Vehicle({ network, seed: 5, index: 3, startTs: T0 });
    for (let k = 0; k < 40; k++) fine.step(250);
    coarse.step(10_000);
    expect([fine.x, fine.y, fine.speed, fine.time]).toEqual([
      coarse.x,
      coarse.y,
      coarse.speed,
      coarse.time,
    ]);
  });

  it("keeps speeds within limits: never negative, never above the vehicle's or the road's", () => {
    let moving = 0;
    const vehicles = simulate(20, 30, (vehicle, fix) => {
      expect(vehicle.speed).toBeGreaterThanOrEqual(0);
      expect(vehicle.speed).toBeLessThanOrEqual(vehicle.maxSpeed);
      expect(vehicle.speed).toBeLessThanOrEqual(vehicle.edge.limit * 1.1 + 1e-9);
      expect(fix.speed).toBeGreaterThanOrEqual(0);
      expect(fix.speed).toBeLessThanOrEqual(vehicle.maxSpeed);
      if (vehicle.speed > 1) moving++;
    });
    for (const vehicle of vehicles) {
      expect(vehicle.maxSpeed).toBeLessThanOrEqual(network.maxLimit * 1.1);
      expect(vehicle.odometer).toBeGreaterThan(2_000); // they do get somewhere
    }
    expect(moving).toBeGreaterThan(20 * 30 * 60 * 0.5);
  });

  it("accelerates at its own rate and brakes gently", () => {
    const previous = new Map<Vehicle, number>();
    simulate(10, 20, (vehicle) => {
      const before = previous.get(vehicle);
      previous.set(vehicle, vehicle.speed);
      if (before === undefined) return;
      const change = vehicle.speed - before; // per 1 s step
      expect(change).toBeLessThanOrEqual(vehicle.accel + 1e-9);
      expect(change).toBeGreaterThanOrEqual(-4.5); // ~3 m/s², plus the last metre of a stop
    });
  });

  it("reports the course of travel: the bearing between consecutive true positions", () => {
    let compared = 0;
    const last = new Map<Vehicle, { lat: number; lon: number; edge: number }>();
    simulate(20, 10, (vehicle, fix) => {
      const before = last.get(vehicle);
      const now = { lat: vehicle.lat, lon: vehicle.lon, edge: vehicle.edge.id };
      last.set(vehicle, now);
      expect(fix.course).toBeGreaterThanOrEqual(0);
      expect(fix.course).toBeLessThan(360);
      // Across a junction the chord cuts the corner, so compare along one street only.
      if (!before || before.edge !== now.edge || vehicle.speed <= 3) return;
      const bearing = ruler.bearing([before.lon, before.lat], [now.lon, now.lat]);
      expect(angleBetween(bearing, fix.course!)).toBeLessThan(10);
      compared++;
    });
    expect(compared).toBeGreaterThan(5_000);
  });

  it("follows the streets, turning back only at dead ends", () => {
    // Pruning half the side streets leaves plenty of cul-de-sacs.
    const sparse = buildStreetNetwork({ center: BERLIN, seed: 1, removeShare: 0.5 });
    const deadEnds = sparse.nodes.filter((n) => n.out.length === 1).length;
    expect(deadEnds).toBeGreaterThan(10);
    const previous = new Map<Vehicle, StreetEdge>();
    let turns = 0;
    let uTurns = 0;
    simulate(
      30,
      30,
      (vehicle) => {
        const before = previous.get(vehicle);
        previous.set(vehicle, vehicle.edge);
        if (!before || before === vehicle.edge) return;
        turns++;
        expect(vehicle.edge.from).toBe(before.to);
        if (vehicle.edge.id === before.reverse) {
          uTurns++;
          expect(sparse.nodes[before.to]!.out).toHaveLength(1);
        }
      },
      sparse,
    );
    expect(turns).toBeGreaterThan(1000);
    expect(uTurns).toBeGreaterThan(0);
  });

  it("parks now and then for 1–5 minutes, standing still, with the intervals recorded", () => {
    const still = new Map<Vehicle, { x: number; y: number }>();
    let parkedSteps = 0;
    const vehicles = simulate(20, 30, (vehicle, fix) => {
      if (!vehicle.parked) {
        still.delete(vehicle);
        return;
      }
      parkedSteps++;
      expect(vehicle.speed).toBe(0);
      expect(fix.speed).toBe(0);
      const spot = still.get(vehicle);
      if (spot) expect([vehicle.x, vehicle.y]).toEqual([spot.x, spot.y]);
      else still.set(vehicle, { x: vehicle.x, y: vehicle.y });
    });
    const parks = vehicles.flatMap((v) => v.parks.filter((p) => p.from > T0));
    expect(parks.length).toBeGreaterThan(10);
    for (const park of parks) {
      if (park.to === undefined) continue; // still parked when the run ended
      expect(park.to - park.from).toBeGreaterThanOrEqual(60_000);
      expect(park.to - park.from).toBeLessThanOrEqual(300_000 + 1000);
    }
    expect(parkedSteps).toBeGreaterThan(0);
    expect(vehicles.filter((v) => v.parkCount > 0).length).toBeGreaterThan(10);
  });

  it("waits at red lights at signalled junctions, 5–40 s at a time", () => {
    const waits: number[] = [];
    const since = new Map<Vehicle, number>();
    const vehicles = simulate(20, 30, (vehicle) => {
      if (vehicle.state !== "signal") {
        const start = since.get(vehicle);
        if (start !== undefined) waits.push(vehicle.time - start);
        since.delete(vehicle);
        return;
      }
      expect(vehicle.speed).toBe(0);
      expect(network.nodes[vehicle.edge.to]!.signal).toBe(true);
      const junction = network.nodes[vehicle.edge.to]!;
      expect(Math.hypot(vehicle.x - junction.x, vehicle.y - junction.y)).toBeLessThan(1e-6);
      if (!since.has(vehicle)) since.set(vehicle, vehicle.time);
    });
    expect(vehicles.reduce((n, v) => n + v.signalStops, 0)).toBeGreaterThan(50);
    expect(waits.length).toBeGreaterThan(50);
    // Sampled at 1 s, so a wait reads up to a second long on each side.
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(4_000);
      expect(wait).toBeLessThanOrEqual(41_000);
    }
  });

  it("emits valid fixes with a few metres of noise, plausible altitude and battery", () => {
    let error = 0;
    let count = 0;
    simulate(10, 10, (vehicle, fix) => {
      const checked = checkReport(fix);
      expect("error" in checked ? checked.error : checked.rejected).toEqual([]);
      const metres = ruler.distance([vehicle.lon, vehicle.lat], [fix.lon, fix.lat]);
      expect(metres).toBeLessThan(20);
      error += metres;
      count++;
      expect(fix.ts).toBe(vehicle.time);
      expect(fix.accuracy).toBeGreaterThanOrEqual(3);
      expect(fix.accuracy).toBeLessThanOrEqual(8);
      expect(fix.alt).toBeGreaterThan(0);
      expect(fix.alt).toBeLessThan(100);
      expect(fix.battery).toBeGreaterThanOrEqual(0);
      expect(fix.battery).toBeLessThanOrEqual(100);
    });
    // σ = 3 m per axis gives a mean radial error of 3·√(π/2) ≈ 3.8 m.
    expect(error / count).toBeGreaterThan(2.5);
    expect(error / count).toBeLessThan(5);
  });
});

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
