import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { FenceShape } from "../../protocol/geofence.ts";
import { silentLogger } from "../../server/logger.ts";
import { copyStore } from "../../server/stores/copy-store.ts";
import { openStores } from "../../server/stores/open.ts";
import {
  NameTakenError,
  type EventFilter,
  type NewEvent,
  type NewPosition,
  type Stores,
} from "../../server/stores/ports.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-db.ts";

// The geofence and event ports on a real database of their own: a SQLite file (with the storage
// worker beside the main connection, as the server runs them) or, in the `postgres` project, a
// PostgreSQL database. The same assertions hold on both.

const T0 = Date.UTC(2026, 0, 5, 10);
const depotShape: FenceShape = { type: "circle", center: { lat: 52.52, lon: 13.405 }, radius: 250 };
const yardShape: FenceShape = {
  type: "polygon",
  ring: [
    { lat: 52.5, lon: 13.4 },
    { lat: 52.5, lon: 13.41 },
    { lat: 52.51, lon: 13.41 },
  ],
};
const roadShape: FenceShape = {
  type: "corridor",
  line: [
    { lat: 52.4, lon: 13.3 },
    { lat: 52.45, lon: 13.35 },
  ],
  width: 40,
};

let database: TestDatabase;
let stores: Stores;

beforeEach(async () => {
  database = await createTestDatabase();
  stores = await openStores(
    { db: database.db, durability: "normal", commitDelayMs: 1, commitMaxRows: 5000 },
    { logger: silentLogger, worker: true, now: () => T0 },
  );
});

afterEach(async () => {
  await stores?.close();
  await database?.drop();
});

const event = (deviceId: string, ts: number, extra: Partial<NewEvent> = {}): NewEvent => ({
  deviceId,
  type: "geofence_enter",
  ts,
  lat: 52.52,
  lon: 13.405,
  geofenceId: null,
  details: {},
  ...extra,
});

const everything: EventFilter = { deviceIds: null, limit: 1000 };
const idsOf = (events: { id: number }[]) => events.map((e) => e.id);

describe("geofence store", () => {
  it("creates, lists, reads, changes and removes fences", async () => {
    const { geofences } = stores;
    expect(await geofences.list()).toEqual([]);
    const depot = await geofences.create(
      { name: "Depot", color: "#e4572e", shape: depotShape, speedLimit: 8.5 },
      T0,
    );
    expect(depot).toEqual({
      id: expect.any(Number),
      name: "Depot",
      color: "#e4572e",
      shape: depotShape,
      speedLimit: 8.5,
      createdAt: T0,
      updatedAt: T0,
    });
    const yard = (await geofences.create(
      { name: "Yard", color: "#123abc", shape: yardShape, speedLimit: null },
      T0 + 1,
    ))!;
    expect(yard.id).toBeGreaterThan(depot!.id);
    expect(await geofences.list()).toEqual([depot, yard]);
    expect(await geofences.get(yard.id)).toEqual(yard);
    expect(await geofences.get(yard.id + 100)).toBeNull();

    // Every field, then a partial change that leaves the rest as it was.
    const changed = await geofences.update(
      depot!.id,
      { name: "Main depot", color: "#000000", shape: roadShape, speedLimit: null },
      T0 + 10,
    );
    expect(changed).toEqual({
      ...depot,
      name: "Main depot",
      color: "#000000",
      shape: roadShape,
      speedLimit: null,
      updatedAt: T0 + 10,
    });
    const limited = await geofences.update(depot!.id, { speedLimit: 13.9 }, T0 + 20);
    expect(limited).toEqual({ ...changed, speedLimit: 13.9, updatedAt: T0 + 20 });
    expect(await geofences.get(depot!.id)).toEqual(limited);
    // Nothing to change: the fence as it is.
    expect(await geofences.update(depot!.id, {}, T0 + 30)).toEqual(limited);
    expect(await geofences.update(yard.id + 100, { color: "#ffffff" }, T0)).toBeNull();

    expect(await geofences.remove(yard.id)).toBe(true);
    expect(await geofences.remove(yard.id)).toBe(false);
    expect(await geofences.get(yard.id)).toBeNull();
    expect(await geofences.list()).toEqual([limited]);
    // A removed fence's id names no other: events still name it.
    const later = await geofences.create(
      { name: "Yard", color: "#123abc", shape: yardShape, speedLimit: null },
      T0 + 40,
    );
    expect(later!.id).toBeGreaterThan(yard.id);
  });

  it("refuses a name another fence has, on create and on update", async () => {
    const { geofences } = stores;
    const fence = { color: "#e4572e", shape: depotShape, speedLimit: null };
    const depot = (await geofences.create({ name: "Depot", ...fence }, T0))!;
    const yard = (await geofences.create({ name: "Yard", ...fence }, T0))!;
    expect(await geofences.create({ name: "Depot", ...fence }, T0 + 1)).toBeNull();

    await expect(geofences.update(yard.id, { name: "Depot" }, T0 + 2)).rejects.toBeInstanceOf(
      NameTakenError,
    );
    // Nothing changed, not even the other fields asked for with the name.
    await expect(
      geofences.update(yard.id, { name: "Depot", color: "#000000" }, T0 + 2),
    ).rejects.toThrow(NameTakenError);
    expect(await geofences.get(yard.id)).toEqual(yard);
    // A fence may keep its own name.
    expect(await geofences.update(depot.id, { name: "Depot" }, T0 + 3)).toMatchObject({
      name: "Depot",
      updatedAt: T0 + 3,
    });
    expect(await geofences.list()).toHaveLength(2);
  });
});

describe("event store", () => {
  it("stores each event once: a replay stores nothing and resolves with none", async () => {
    const { events } = stores;
    const batch = [
      event("van", T0, { geofenceId: 3, details: { name: "Depot" } }),
      event("van", T0, { type: "geofence_exit", geofenceId: 3, details: { name: "Depot" } }),
      // The same device, type and time, another fence: another event.
      event("van", T0, { geofenceId: 4, details: { name: "Yard" } }),
      event("van", T0 + 500, {
        type: "overspeed",
        details: { peak: 21.5, limit: 13.9, inFence: false, note: null },
      }),
      event("bike", T0),
    ];
    const stored = await events.record(batch, []);
    // In input order, with ids drawn in that order.
    expect(stored).toEqual(batch.map((e) => ({ id: expect.any(Number), ...e })));
    expect(idsOf(stored)).toEqual([...idsOf(stored)].sort((a, b) => a - b));
    expect(await events.record(batch, [])).toEqual([]);

    // A call that mixes old and new events stores only the new ones; of two equal events in one
    // call, one is stored.
    const fresh = event("van", T0 + 1000, { geofenceId: 3 });
    const again = await events.record([batch[0]!, fresh, batch[3]!, fresh], []);
    expect(again).toEqual([{ id: expect.any(Number), ...fresh }]);
    expect(again[0]!.id).toBeGreaterThan(Math.max(...idsOf(stored)));

    // Read back newest first, null fences and JSON details as they were given.
    const listed = await events.list(everything);
    expect(listed).toEqual([...stored, ...again].reverse());
    expect(listed.find((e) => e.type === "overspeed")).toMatchObject({
      geofenceId: null,
      details: { peak: 21.5, limit: 13.9, inFence: false, note: null },
    });
  });

  it("lists by device, type, fence and time, newest first, in pages", async () => {
    const { events } = stores;
    const batch: NewEvent[] = [];
    for (let i = 0; i < 12; i++) {
      batch.push(
        event(i % 3 === 0 ? "bike" : "van", T0 + i * 1000, {
          type: i % 2 === 0 ? "geofence_enter" : "overspeed",
          geofenceId: i % 2 === 0 ? (i % 4 === 0 ? 1 : 2) : null,
        }),
      );
    }
    await events.record([event("truck", T0 - 5000)], []);
    const stored = await events.record(batch, []);
    const newestFirst = [...stored].reverse();
    const where = (keep: (e: (typeof stored)[number]) => boolean) =>
      idsOf(newestFirst.filter(keep));
    const list = async (filter: Partial<EventFilter>) =>
      idsOf(await events.list({ ...everything, ...filter }));

    expect(await list({})).toHaveLength(13);
    expect(await list({ deviceIds: [] })).toEqual([]);
    expect(await list({ deviceIds: ["nobody"] })).toEqual([]);
    expect(await list({ deviceIds: ["van"] })).toEqual(where((e) => e.deviceId === "van"));
    expect(await list({ deviceIds: ["van", "bike"] })).toEqual(where(() => true));
    expect(await list({ types: ["overspeed"] })).toEqual(where((e) => e.type === "overspeed"));
    expect(await list({ types: ["geofence_exit"] })).toEqual([]);
    expect(await list({ types: ["geofence_enter", "overspeed"], deviceIds: ["bike"] })).toEqual(
      where((e) => e.deviceId === "bike"),
    );
    expect(await list({ geofenceId: 2 })).toEqual(where((e) => e.geofenceId === 2));
    expect(await list({ geofenceId: 2, deviceIds: ["bike"] })).toEqual(
      where((e) => e.geofenceId === 2 && e.deviceId === "bike"),
    );
    // from ≤ ts ≤ to, both ends kept.
    expect(await list({ from: T0 + 3000, to: T0 + 6000, deviceIds: ["van", "bike"] })).toEqual(
      where((e) => e.ts >= T0 + 3000 && e.ts <= T0 + 6000),
    );
    expect(await list({ from: T0 + 11_000 })).toEqual(where((e) => e.ts === T0 + 11_000));
    expect(await list({ to: T0 - 1 })).toHaveLength(1);
    expect(await list({ limit: 0 })).toEqual([]);

    // Pages of 5 through the van's events: each next page starts before the last id seen.
    const pages: number[][] = [];
    let before: number | undefined;
    for (;;) {
      const page = await list({ deviceIds: ["van"], limit: 5, before });
      if (page.length === 0) break;
      pages.push(page);
      before = page.at(-1);
    }
    expect(pages.map((p) => p.length)).toEqual([5, 3]);
    expect(pages.flat()).toEqual(where((e) => e.deviceId === "van"));
    // Every device, pages of 4.
    const all: number[] = [];
    before = undefined;
    for (;;) {
      const page = await list({ limit: 4, before });
      if (page.length === 0) break;
      all.push(...page);
      before = page.at(-1);
    }
    expect(all).toEqual(await list({}));
  });

  it("saves each device's rule state with its events, and reads it back", async () => {
    const { events } = stores;
    expect(await events.ruleState("van")).toBeNull();
    expect(await events.ruleStates()).toEqual([]);
    const van = { deviceId: "van", ts: T0, state: JSON.stringify({ inside: [1, 2], over: null }) };
    const bike = { deviceId: "bike", ts: T0 + 5, state: "{}" };
    expect(await events.record([], [van, bike])).toEqual([]);
    expect(await events.ruleState("van")).toEqual(van);
    expect(await events.ruleStates()).toEqual([bike, van]);

    // A later state replaces the saved one, in the same transaction as its events.
    const later = { deviceId: "van", ts: T0 + 60_000, state: '{"inside":[]}' };
    const stored = await events.record([event("van", T0 + 60_000, { geofenceId: 1 })], [later]);
    expect(stored).toHaveLength(1);
    expect(await events.ruleState("van")).toEqual(later);
    expect(await events.ruleStates()).toEqual([bike, later]);

    // Two states of one device in one call: the last is kept.
    const last = { deviceId: "bike", ts: T0 + 9, state: '{"n":2}' };
    await events.record([], [{ deviceId: "bike", ts: T0 + 7, state: '{"n":1}' }, last]);
    expect(await events.ruleState("bike")).toEqual(last);
  });

  it("records all or nothing: a state that cannot be saved takes its events with it", async () => {
    const { events } = stores;
    const broken = { deviceId: "van", ts: T0, state: null as unknown as string };
    await expect(events.record([event("van", T0)], [broken])).rejects.toThrow();
    expect(await events.list(everything)).toEqual([]);
    expect(await events.ruleState("van")).toBeNull();
    // The store goes on working, and the event is new to it.
    expect(await events.record([event("van", T0)], [])).toHaveLength(1);
  });

  it("records events while the storage worker writes positions", async () => {
    const { devices, positions, events } = stores;
    await devices.ensure("van", T0);
    const fixes: NewPosition[] = Array.from({ length: 3000 }, (_, i) => ({
      deviceId: "van",
      position: { ts: T0 + i * 1000, lat: 52.5, lon: 13.4 },
      receivedAt: T0,
      flag: null,
    }));
    const writes = [];
    const recorded = [];
    for (let i = 0; i < 30; i++) {
      writes.push(positions.append(fixes.slice(i * 100, (i + 1) * 100)));
      recorded.push(
        events.record(
          [event("van", T0 + i * 100_000)],
          [{ deviceId: "van", ts: T0 + i * 100_000, state: String(i) }],
        ),
      );
    }
    expect((await Promise.all(writes)).flat().every(Boolean)).toBe(true);
    expect((await Promise.all(recorded)).flat()).toHaveLength(30);
    expect(await devices.countPositions("van")).toBe(3000);
    // Calls in flight together may commit in any order (PostgreSQL gives each a connection of its
    // own), but a state is saved whole: its time and text come from the same call.
    const saved = (await events.ruleState("van"))!;
    expect(saved.ts).toBe(T0 + Number(saved.state) * 100_000);
    expect(await events.list({ ...everything, deviceIds: ["van"] })).toHaveLength(30);
  });
});

describe("removing a device", () => {
  it("deletes its events and rule state, and nothing of other devices", async () => {
    const { devices, events } = stores;
    await devices.ensure("van", T0);
    await devices.ensure("bike", T0);
    await events.record(
      [event("van", T0), event("van", T0 + 1), event("bike", T0)],
      [
        { deviceId: "van", ts: T0 + 1, state: "{}" },
        { deviceId: "bike", ts: T0, state: "{}" },
      ],
    );
    expect(await devices.remove("van")).toBe(0);
    expect(await events.list({ ...everything, deviceIds: ["van"] })).toEqual([]);
    expect(await events.ruleState("van")).toBeNull();
    expect((await events.list(everything)).map((e) => e.deviceId)).toEqual(["bike"]);
    expect(await events.ruleStates()).toEqual([{ deviceId: "bike", ts: T0, state: "{}" }]);
    // Reporting again, it starts afresh: its old events are not duplicates any more.
    await devices.ensure("van", T0 + 10);
    expect(await events.record([event("van", T0)], [])).toHaveLength(1);
  });
});

// Only in the `postgres` project: a SQLite installation's fences, events and states, copied into
// this test's PostgreSQL database by `locus copy-store`, read back through the PostgreSQL store.
describe.runIf(inject("testPostgres") !== undefined)("copy-store", () => {
  it("carries fences, events and rule state over, ids and all", async () => {
    const dir = mkdtempSync(join(tmpdir(), "locus-fences-"));
    try {
      const file = join(dir, "locus.db");
      const source = await openStores(
        { db: file, durability: "normal", commitDelayMs: 0, commitMaxRows: 5000 },
        { logger: silentLogger, worker: false, now: () => T0 },
      );
      const fence = { color: "#e4572e", speedLimit: 8.5 };
      const depot = await source.geofences.create(
        { name: "Depot", shape: depotShape, ...fence },
        T0,
      );
      const gone = await source.geofences.create({ name: "Gone", shape: roadShape, ...fence }, T0);
      await source.geofences.remove(gone!.id);
      await source.devices.ensure("van", T0);
      const recorded = await source.events.record(
        [
          event("van", T0, { geofenceId: depot!.id, details: { name: "Depot" } }),
          event("van", T0 + 1, { type: "overspeed", details: { peak: 20.5, limit: 8.5 } }),
        ],
        [{ deviceId: "van", ts: T0 + 1, state: '{"inside":[1]}' }],
      );
      const fences = await source.geofences.list();
      await source.close();

      const result = await copyStore({ from: file, to: database.db });
      expect(result.tables).toMatchObject({ geofences: 1, events: 2, rule_state: 1 });
      expect(await stores.geofences.list()).toEqual(fences);
      expect(await stores.events.list(everything)).toEqual([...recorded].reverse());
      expect(await stores.events.ruleStates()).toEqual([
        { deviceId: "van", ts: T0 + 1, state: '{"inside":[1]}' },
      ]);
      // New ids follow the copied ones, past the removed fence's too; replays stay duplicates.
      const yard = await stores.geofences.create({ name: "Yard", shape: yardShape, ...fence }, T0);
      expect(yard!.id).toBeGreaterThan(gone!.id);
      expect(await stores.events.record([event("van", T0, { geofenceId: depot!.id })], [])).toEqual(
        [],
      );
      const next = await stores.events.record([event("van", T0 + 2)], []);
      expect(next[0]!.id).toBeGreaterThan(Math.max(...idsOf(recorded)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
