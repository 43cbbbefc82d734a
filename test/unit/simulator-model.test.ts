import CheapRuler from "cheap-ruler";
import { describe, expect, it } from "vitest";
import { checkReport, type Position } from "../../protocol/index.ts";
import { buildStreetNetwork, type StreetEdge } from "../../simulator/streets.ts";
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
