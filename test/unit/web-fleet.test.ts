import { describe, expect, it } from "vitest";
import type { LiveDevice } from "../../protocol/index.ts";
import { Fleet, neverReported } from "../../web/src/lib/state/fleet.svelte.ts";

const T0 = Date.UTC(2026, 5, 1, 12);

const device = (id: string, extra: Partial<LiveDevice> = {}): LiveDevice => ({
  id,
  status: "stopped",
  lastSeen: T0,
  position: { ts: T0, lat: 52.5, lon: 13.4 },
  ...extra,
});

/** A registered device that has not sent a fix, as the server lists it. */
const unreported = (id: string): LiveDevice => ({
  id,
  status: "offline",
  lastSeen: 0,
  position: null,
});

function fleetOf(...devices: LiveDevice[]): Fleet {
  const fleet = new Fleet();
  fleet.replace({ serverTime: T0, tickMs: 100, devices });
  return fleet;
}

const labels = (fleet: Fleet) => fleet.sortedVehicles().map((v) => v.label);

describe("dashboard fleet: names", () => {
  it("labels a vehicle by its name, by its id without one, and sorts by the label", () => {
    const fleet = fleetOf(device("sim-10"), device("sim-2", { name: "Zebra van" }), device("a-1"));
    expect(labels(fleet)).toEqual(["a-1", "sim-10", "Zebra van"]);
    expect(fleet.get("sim-2")).toMatchObject({ name: "Zebra van", label: "Zebra van" });
  });

  it("searches the id and the name alike", () => {
    const v = fleetOf(device("sim-2", { name: "Zebra Van" })).get("sim-2")!;
    expect(v.key.includes("zebra")).toBe(true);
    expect(v.key.includes("sim-2")).toBe(true);
  });

  it("takes a new name from a batch and goes back to the id when the name is cleared", () => {
    const fleet = fleetOf(device("b"), device("c"));
    fleet.apply({ serverTime: T0, devices: [device("c", { name: "Alpha" })] });
    expect(labels(fleet)).toEqual(["Alpha", "b"]);
    expect(fleet.get("c")!.key).toContain("alpha");
    // Every update is the whole device: no name is a cleared name.
    fleet.apply({ serverTime: T0, devices: [device("c")] });
    expect(labels(fleet)).toEqual(["b", "c"]);
    expect(fleet.get("c")).toMatchObject({ name: null, label: "c", key: "c" });
  });
});

describe("dashboard fleet: removals", () => {
  it("drops removed vehicles, keeps the list dense, recounts and tells listeners which", () => {
    const fleet = fleetOf(
      device("a"),
      device("b", { status: "moving" }),
      device("c"),
      device("d", { status: "moving" }),
    );
    const seen: (readonly string[])[] = [];
    fleet.onChange((_, removed) => seen.push(removed));
    fleet.apply({ serverTime: T0, devices: [], removed: ["b", "unknown", "d"] });
    expect(seen).toEqual([["b", "d"]]);
    expect(fleet.get("b")).toBeUndefined();
    expect(fleet.list.map((v) => v.id)).toEqual(["a", "c"]);
    expect(fleet.list.map((v) => v.index)).toEqual([0, 1]);
    expect(labels(fleet)).toEqual(["a", "c"]);
    expect(fleet.total).toBe(2);
    expect(fleet.counts).toEqual({ moving: 0, stopped: 2, offline: 0 });
  });

  it("takes a vehicle missing from a resync's snapshot as removed", () => {
    const fleet = fleetOf(device("a"), device("b"));
    const seen: (readonly string[])[] = [];
    fleet.onChange((kind, removed) => seen.push(removed));
    fleet.replace({ serverTime: T0, tickMs: 100, devices: [device("b")] });
    expect(seen).toEqual([["a"]]);
    expect(fleet.list.map((v) => [v.id, v.index])).toEqual([["b", 0]]);
  });
});

describe("dashboard fleet: registered devices that never reported", () => {
  it("lists them without a position, as offline, until their first fix", () => {
    const fleet = fleetOf(device("a", { status: "moving" }), unreported("spare"));
    const spare = fleet.get("spare")!;
    expect(neverReported(spare)).toBe(true);
    expect(spare).toMatchObject({ position: null, lastSeen: 0 });
    expect(fleet.total).toBe(2);
    expect(fleet.counts).toEqual({ moving: 1, stopped: 0, offline: 1 });

    fleet.apply({ serverTime: T0, devices: [device("spare", { lastSeen: T0 + 1000 })] });
    expect(neverReported(spare)).toBe(false);
    expect(fleet.counts).toEqual({ moving: 1, stopped: 1, offline: 0 });
  });
});
