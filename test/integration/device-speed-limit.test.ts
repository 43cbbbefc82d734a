import { describe, expect, it } from "vitest";
import type { AdminDevice } from "../../protocol/admin.ts";
import type { FleetEvent } from "../../protocol/geofence.ts";
import { makePosition, report, runCli, useTestBed, type DeviceSocket } from "../support/locus.ts";

/**
 * A device's own speed limit (issue #14): set over the admin API and the CLI, it replaces the
 * global one from the device's next fix; cleared, the global one applies again.
 */
const bed = useTestBed();

const HOME = { lat: 52.52, lon: 13.405 };

function patch(body: unknown) {
  return bed.server.fetch("/api/admin/devices/car", {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function overspeeds(): Promise<FleetEvent[]> {
  const res = await bed.server.fetch("/api/events?type=overspeed");
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: FleetEvent[] }).events.reverse();
}

/** One fix a second at each speed (m/s), going on from where the last call stopped. */
let ts = makePosition().ts;
async function driveAt(car: DeviceSocket, speeds: number[]) {
  for (const speed of speeds) {
    ts += 1000;
    await report(car, { ts, lat: HOME.lat, lon: HOME.lon + (ts % 100_000) / 1e7, speed });
  }
  await bed.server.locus.services.events.idle();
}

const over = (seconds: number, speed: number) => Array<number>(seconds).fill(speed);

describe("a device's own speed limit", () => {
  it("replaces the global one from the next fix, and clearing it brings the global one back", async () => {
    // Global: 50 km/h (13.9 m/s).
    await bed.start({ speedLimitKmh: 50, overspeedSeconds: 5, offlineMinutes: 0 });
    const car = await bed.device("car");
    await driveAt(car, [5]);

    const set = await patch({ speedLimitKmh: 100 });
    expect(set.status).toBe(200);
    expect(((await set.json()) as AdminDevice).speedLimitKmh).toBe(100);
    // 72 km/h for 10 s: over the global limit, under its own.
    await driveAt(car, [...over(10, 20), 5]);
    expect(await overspeeds()).toEqual([]);

    // The limit the rules hold for the car must go with the change: the same drive now counts.
    expect(
      ((await (await patch({ speedLimitKmh: null })).json()) as AdminDevice).speedLimitKmh,
    ).toBeNull();
    const episodeStart = ts + 1000;
    await driveAt(car, [...over(10, 20), 5]);
    expect(await overspeeds()).toMatchObject([
      { ts: episodeStart, details: { peak: 20, limit: 13.89, durationS: 9 } },
    ]);

    // Lower than the global one: 30 km/h (8.3 m/s) at 36 km/h.
    await patch({ speedLimitKmh: 30 });
    await driveAt(car, [...over(8, 10), 5]);
    const found = await overspeeds();
    expect(found).toHaveLength(2);
    expect(found[1]!.details).toMatchObject({ peak: 10, limit: 8.33 });
  });

  it("answers a negative, absurd or non-numeric limit with a 400 naming the field, and keeps the old one", async () => {
    await bed.start();
    await bed.device("car");
    await patch({ speedLimitKmh: 80 });
    const cases: [unknown, RegExp][] = [
      [-5, /^speedLimitKmh: must be > 0 km\/h/],
      [0, /^speedLimitKmh: must be > 0 km\/h/],
      [5000, /^speedLimitKmh: must be at most 1000 km\/h/],
      ["fast", /^speedLimitKmh: must be a number of km\/h/],
    ];
    for (const [speedLimitKmh, message] of cases) {
      const res = await patch({ speedLimitKmh });
      expect(res.status, String(speedLimitKmh)).toBe(400);
      const { error } = (await res.json()) as { error: { field: string; message: string } };
      expect(error.field).toBe("speedLimitKmh");
      expect(error.message).toMatch(message);
    }
    const device = (await (await bed.server.fetch("/api/admin/devices/car")).json()) as AdminDevice;
    expect(device.speedLimitKmh).toBe(80);
  });

  it("is set and cleared with the CLI", async () => {
    const server = await bed.start();
    await bed.device("car");
    expect(await runCli(server.db, "device", "speed-limit", "car", "80")).toMatch(
      /car has its own speed limit: 80 km\/h/,
    );
    const listed = JSON.parse(await runCli(server.db, "device", "list", "--json")) as AdminDevice[];
    expect(listed.find((d) => d.deviceId === "car")?.speedLimitKmh).toBe(80);
    await expect(runCli(server.db, "device", "speed-limit", "car", "fast")).rejects.toThrow(
      /speedLimitKmh: must be a number of km\/h/,
    );
    expect(await runCli(server.db, "device", "speed-limit", "car", "none")).toMatch(
      /car follows the global speed limit/,
    );
    const after = JSON.parse(await runCli(server.db, "device", "list", "--json")) as AdminDevice[];
    expect(after.find((d) => d.deviceId === "car")?.speedLimitKmh).toBeNull();
  });
});
