import { describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import { drive } from "../support/drive.ts";
import {
  connectDevice,
  report,
  startTestLocus,
  useTestBed,
  type TestLocus,
} from "../support/locus.ts";

/**
 * Offline / online and stopped / moving (issue #14): once each, across restarts and resends,
 * on a real server with a real SQLite file and a clock the test moves.
 */
const bed = useTestBed();

const MIN = 60_000;
const HOME = { lat: 52.52, lon: 13.405 };

/** The server's clock: moved by the test instead of waiting ten minutes. */
function testClock(start: number) {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

/** Oldest first; `types` as the REST filter takes them ("offline,online"). */
async function eventsOf(server: TestLocus, deviceId: string, types = ""): Promise<FleetEvent[]> {
  const filter = types ? `&type=${types}` : "";
  const res = await server.fetch(`/api/events?device=${deviceId}&limit=100${filter}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: FleetEvent[] }).events.reverse();
}

const kinds = (events: FleetEvent[]) => events.map((e) => e.type);

/**
 * Only offline and online: two fixes at one place half an hour apart are also, rightly, a stop
 * (time without data inside the radius is part of a stay, as history counts it).
 */
const PRESENCE = "offline,online";

describe("offline and online", () => {
  it("fires offline once after the threshold, not again after a restart, and online on the next fix", async () => {
    const base = Math.floor(Date.now() / 1000) * 1000;
    const clock = testClock(base);
    const server = await bed.start({ offlineMinutes: 10 }, { clock });
    const { services } = server.locus;
    const van = await bed.device("van");
    const parked = await bed.device("parked");
    const vanFix = { ts: base - MIN, ...HOME };
    await report(van, vanFix);
    await report(parked, { ts: base, lat: HOME.lat, lon: HOME.lon + 0.01 });
    await services.events.idle();
    await services.offline.sweep();
    expect(await eventsOf(server, "van", PRESENCE)).toEqual([]);

    // Ten minutes on: van has been silent 11 minutes, parked exactly 10 (not more: not yet).
    clock.t = base + 10 * MIN;
    await services.offline.sweep();
    await services.offline.sweep();
    const [offline, ...more] = await eventsOf(server, "van", PRESENCE);
    expect(more).toEqual([]);
    expect(offline).toMatchObject({
      type: "offline",
      ts: vanFix.ts + 10 * MIN,
      lat: vanFix.lat,
      lon: vanFix.lon,
      geofenceId: null,
      details: { lastFixAt: vanFix.ts },
    });
    expect(await eventsOf(server, "parked", PRESENCE)).toEqual([]);
    van.close();
    parked.close();
    await server.stop();

    // Down for twenty minutes; on restart van is not told again, parked (silent across it) is.
    clock.t = base + 30 * MIN;
    const again = await startTestLocus({ offlineMinutes: 10 }, { clock, db: server.db });
    try {
      await again.locus.services.offline.sweep();
      expect(await eventsOf(again, "van", PRESENCE)).toEqual([offline]);
      expect(await eventsOf(again, "parked", PRESENCE)).toMatchObject([
        { type: "offline", ts: base + 10 * MIN },
      ]);

      // Back: online at the fix, once, however often it is resent.
      const back = bed.track(await connectDevice(again.url, "van"));
      const fix = { ts: clock.t - 5000, lat: HOME.lat + 0.001, lon: HOME.lon };
      await report(back, fix);
      await report(back, fix);
      await again.locus.services.events.idle();
      await again.locus.services.offline.sweep();
      const van2 = await eventsOf(again, "van", PRESENCE);
      expect(kinds(van2)).toEqual(["offline", "online"]);
      expect(van2[1]).toMatchObject({
        ts: fix.ts,
        lat: fix.lat,
        lon: fix.lon,
        details: { offlineS: Math.round((fix.ts - offline!.ts) / 1000) },
      });

      // Parked uploads a fix it kept from before the offline, then a fresh one: only the fresh
      // one brings it back, and the offline is not recorded a second time.
      const late = bed.track(await connectDevice(again.url, "parked"));
      await report(late, { ts: base + 5 * MIN, lat: HOME.lat, lon: HOME.lon + 0.01 });
      await again.locus.services.offline.sweep();
      expect(kinds(await eventsOf(again, "parked", PRESENCE))).toEqual(["offline"]);
      await report(late, { ts: clock.t, lat: HOME.lat, lon: HOME.lon + 0.01 });
      await again.locus.services.offline.sweep();
      const parked2 = await eventsOf(again, "parked", PRESENCE);
      expect(kinds(parked2)).toEqual(["offline", "online"]);
      expect(parked2[1]!.ts).toBe(clock.t);
    } finally {
      await again.dispose();
    }
  });

  it("records nothing when the threshold is 0", async () => {
    const base = Math.floor(Date.now() / 1000) * 1000;
    const clock = testClock(base);
    const server = await bed.start({ offlineMinutes: 0 }, { clock });
    const van = await bed.device("van");
    await report(van, { ts: base - MIN, ...HOME });
    clock.t = base + 60 * MIN;
    await server.locus.services.offline.sweep();
    await report(van, { ts: clock.t, ...HOME });
    await server.locus.services.events.idle();
    expect(await eventsOf(server, "van", PRESENCE)).toEqual([]);
  });
});

describe("stopped and moving", () => {
  it("follows history's stop rules: one stopped at the stop's start, one moving as it leaves, none twice on a resend", async () => {
    const start = Math.floor(Date.now() / 1000) * 1000 - 3 * 3_600_000;
    const fixes = drive({ ts: start, ...HOME, alt: 40 }, [
      { kind: "drive", minutes: 5, speed: 12, course: 90, everyS: 5 },
      { kind: "park", minutes: 12, everyS: 10 },
      { kind: "drive", minutes: 5, speed: 12, course: 0, everyS: 5 },
      // A red light: too short to be a stop.
      { kind: "park", minutes: 1, everyS: 10 },
      { kind: "drive", minutes: 3, speed: 12, course: 0, everyS: 5 },
    ]);
    const clock = testClock(fixes.at(-1)!.ts + 1000);
    // Offline is another story (the fixes are hours old when the first batch arrives).
    const settings = { stopMinutes: 3, stopRadiusM: 50, offlineMinutes: 0 };
    const server = await bed.start(settings, { clock });
    const car = await bed.device("car");
    const parkStart = start + 5 * MIN;
    const parkEnd = parkStart + 12 * MIN - 10_000;
    const send = async () => {
      for (let i = 0; i < fixes.length; i += 100) await report(car, fixes.slice(i, i + 100));
      await server.locus.services.events.idle();
    };
    await send();
    const found = await eventsOf(server, "car");
    expect(kinds(found)).toEqual(["stopped", "moving"]);
    const [stopped, moving] = found as [FleetEvent, FleetEvent];
    expect(stopped.ts).toBe(parkStart);
    expect(Math.abs(stopped.lat - fixes.find((f) => f.ts === parkStart)!.lat)).toBeLessThan(1e-4);
    expect(moving.ts).toBe(parkEnd);
    expect(moving.details).toEqual({ stoppedS: (parkEnd - parkStart) / 1000 });

    // History draws the same stop.
    const history = await server.fetch(`/api/devices/car/stops?from=${start}&to=${clock.t}`);
    expect(history.status).toBe(200);
    const { stops } = (await history.json()) as { stops: { start: number; end: number }[] };
    expect(stops.map((s) => [s.start, s.end])).toEqual([[parkStart, parkEnd]]);

    // Every fix again, in one go and out of order: nothing new.
    await report(car, [...fixes].reverse());
    await send();
    expect(await eventsOf(server, "car")).toEqual(found);

    // And after a restart, with the rule state read back from the file.
    await server.stop();
    const again = await startTestLocus(settings, { clock, db: server.db });
    try {
      await again.locus.services.events.idle();
      expect(await eventsOf(again, "car")).toEqual(found);
    } finally {
      await again.dispose();
    }
  });
});
