import { afterEach, describe, expect, it } from "vitest";
import { startFleet } from "../../simulator/fleet.ts";
import { closeAll, range, sleep, startServer } from "../support/device-server.ts";

/** The simulator's fleet runner against a real socket.io server made in the test. */

afterEach(closeAll);

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
