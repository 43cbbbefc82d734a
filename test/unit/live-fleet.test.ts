import { describe, expect, it } from "vitest";
import type { Position } from "../../protocol/index.ts";
import { LiveFleet } from "../../server/live/fleet.ts";

const rules = { offlineAfterMs: 600_000, movingSpeed: 1 };
const T0 = Date.UTC(2026, 5, 1, 12);

/** A phone walking north at ~1.4 m/s, one fix every 10 s, without a speed field. */
const walk = (i: number): Position => ({
  ts: T0 + i * 10_000,
  lat: 52 + (i * 14) / 111_320,
  lon: 13,
});

describe("LiveFleet status", () => {
  it("derives motion from successive fixes when a phone sends no speed, and stops once it goes quiet", () => {
    const fleet = new LiveFleet(rules);
    for (let i = 0; i < 4; i++) fleet.stored("phone", [walk(i)], T0 + i * 10_000, T0 + i * 10_000);
    const now = T0 + 30_000;
    expect(fleet.list()[0]!.status).toBe("moving");
    // Quiet for less than twice its reporting interval (at least 30 s): still taken as moving.
    fleet.sweep(now + 25_000);
    expect(fleet.list()[0]!.status).toBe("moving");
    // The phone stopped and stopped reporting: stopped long before it counts as offline.
    fleet.sweep(now + 31_000);
    expect(fleet.list()[0]!.status).toBe("stopped");
    expect(
      fleet
        .take()
        .updates.map((u) => u.status)
        .at(-1),
    ).toBe("stopped");
    fleet.sweep(now + rules.offlineAfterMs + 1);
    expect(fleet.list()[0]!.status).toBe("offline");
  });

  it("believes a reported speed until the next fix", () => {
    const fleet = new LiveFleet(rules);
    fleet.stored("car", [{ ...walk(0), speed: 12 }], T0, T0);
    fleet.sweep(T0 + 300_000);
    expect(fleet.list()[0]!.status).toBe("moving");
    fleet.stored("car", [{ ...walk(1), speed: 0 }], T0 + 300_000, T0 + 300_000);
    expect(fleet.list()[0]!.status).toBe("stopped");
  });

  it("keeps fixes from a file out of 'last seen', and never moves the map back in time", () => {
    const fleet = new LiveFleet(rules);
    fleet.stored("van", [walk(5)], T0, T0);
    fleet.stored("van", [walk(1), walk(9)], null, T0 + 1000);
    const [van] = fleet.list();
    expect(van).toMatchObject({ lastSeen: T0, position: walk(9) });
    fleet.stored("van", [walk(3)], T0 + 2000, T0 + 2000);
    expect(fleet.list()[0]).toMatchObject({ lastSeen: T0 + 2000, position: walk(9) });
  });

  it("announces registered devices, names and removals in the next batch", () => {
    const fleet = new LiveFleet(rules);
    fleet.label({ deviceId: "spare", name: null, groups: [] }, T0);
    expect(fleet.take().updates).toEqual([
      { id: "spare", position: null, lastSeen: 0, status: "offline" },
    ]);
    fleet.label({ deviceId: "spare", name: "Spare van", groups: ["north"] }, T0);
    expect(fleet.take().updates[0]).toMatchObject({ id: "spare", name: "Spare van" });
    fleet.remove("spare");
    expect(fleet.take()).toEqual({ updates: [], removed: [{ id: "spare", groups: ["north"] }] });
    expect(fleet.list()).toEqual([]);
  });
});
