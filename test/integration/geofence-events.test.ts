import { describe, expect, it } from "vitest";
import type { FleetEvent, Geofence } from "../../protocol/geofence.ts";
import { makePosition, report, runCli, signIn, useTestBed, waitFor } from "../support/locus.ts";

/**
 * Geofences over REST and the events fixes give rise to (issue #14): crossings decided on the
 * segment between fixes, overspeed episodes, access, idempotency and restarts.
 */
const bed = useTestBed();

const DEPOT = { lat: 52.52, lon: 13.405 };
/** Metres east of the depot as longitude, at its latitude. */
const east = (m: number) => DEPOT.lon + m / (111_320 * Math.cos((DEPOT.lat * Math.PI) / 180));

async function addFence(body: unknown): Promise<Geofence> {
  const res = await bed.server.fetch("/api/geofences", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Geofence;
}

async function events(query = ""): Promise<FleetEvent[]> {
  const res = await bed.server.fetch(`/api/events${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: FleetEvent[] }).events;
}

describe("geofences over REST", () => {
  it("creates, lists, changes, exports and removes fences, and names the field of a bad one", async () => {
    await bed.start();
    const depot = await addFence({
      name: "depot",
      shape: { type: "circle", center: DEPOT, radius: 50 },
    });
    expect(depot).toMatchObject({ name: "depot", color: "#e4572e", speedLimit: null });

    const bad = await bed.server.fetch("/api/geofences", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x", shape: { type: "circle", center: DEPOT, radius: -5 } }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.field).toBe("shape.radius");
    const bowTie = await bed.server.fetch("/api/geofences", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "bow",
        shape: {
          type: "polygon",
          ring: [
            { lat: 52.5, lon: 13.4 },
            { lat: 52.51, lon: 13.41 },
            { lat: 52.5, lon: 13.41 },
            { lat: 52.51, lon: 13.4 },
          ],
        },
      }),
    });
    expect(bowTie.status).toBe(400);
    expect((await bowTie.json()).error.message).toMatch(/^shape\.ring: must not intersect itself/);
    const taken = await bed.server.fetch("/api/geofences", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "depot", shape: { type: "circle", center: DEPOT, radius: 9 } }),
    });
    expect(taken.status).toBe(409);

    const renamed = await bed.server.fetch(`/api/geofences/${depot.id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "yard", speedLimit: 5 }),
    });
    expect(await renamed.json()).toMatchObject({ id: depot.id, name: "yard", speedLimit: 5 });

    const exported = await (await bed.server.fetch("/api/geofences.geojson")).json();
    expect(exported.features).toHaveLength(1);
    expect(exported.features[0].properties).toMatchObject({ name: "yard", radius: 50 });
    // The export imports back, under new names.
    exported.features[0].properties.name = "yard 2";
    const imported = await bed.server.fetch("/api/geofences/import", {
      method: "POST",
      headers: { "content-type": "application/geo+json" },
      body: JSON.stringify(exported),
    });
    expect(imported.status).toBe(201);
    const list = await (await bed.server.fetch("/api/geofences")).json();
    expect(list.geofences.map((f: Geofence) => f.name)).toEqual(["yard", "yard 2"]);

    expect(
      (await bed.server.fetch(`/api/geofences/${depot.id}`, { method: "DELETE" })).status,
    ).toBe(204);
    expect((await bed.server.fetch(`/api/geofences/${depot.id}`)).status).toBe(404);
  });
});

describe("geofences from the CLI", () => {
  it("adds a fence a running server sees at once, and refuses a bad one naming the field", async () => {
    const server = await bed.start();
    const out = await runCli(
      server.db,
      "geofence",
      "add",
      "--name",
      "depot",
      "--circle",
      "52.52,13.405,80",
    );
    expect(out).toMatch(/geofence \d+ "depot" added/);
    await expect(
      runCli(server.db, "geofence", "add", "--name", "x", "--circle", "52.52,13.405,0"),
    ).rejects.toThrow(/shape\.radius: must be at least 5 m/);
    const listed = await (await server.fetch("/api/geofences")).json();
    expect(listed.geofences.map((f: Geofence) => f.name)).toEqual(["depot"]);
    const exported = JSON.parse(await runCli(server.db, "geofence", "export"));
    expect(
      exported.features.map((f: { properties: { name: string } }) => f.properties.name),
    ).toEqual(["depot"]);
  });
});

describe("events from fixes", () => {
  it("sees a sparse reporter pass through a small fence between two fixes, once, with interpolated times", async () => {
    await bed.start({ geofenceHysteresisM: 10 });
    const fence = await addFence({
      name: "gate",
      shape: { type: "circle", center: DEPOT, radius: 25 },
    });
    const dashboard = bed.dashboard();
    const live: FleetEvent[] = [];
    dashboard.socket.on("fleet:event", (e) => live.push(e));
    await waitFor(() => dashboard.snapshots[0], { what: "snapshot" });
    const van = await bed.device("van-1");
    // 60 s apart, 600 m west to 600 m east: the fence's 50 m lie on the way, crossed at 10 m/s.
    const t0 = makePosition().ts;
    const before = { ts: t0, lat: DEPOT.lat, lon: east(-600), speed: 10 };
    const after = { ts: t0 + 120_000, lat: DEPOT.lat, lon: east(600), speed: 10 };
    await report(van, before);
    await report(van, after);
    // The same fixes again (a resend): nothing new.
    await report(van, [before, after]);
    await bed.server.locus.services.events.idle();

    const found = (await events()).reverse();
    expect(found.map((e) => e.type)).toEqual(["geofence_enter", "geofence_exit"]);
    // Entering at 575 m of 1200 over 120 s, leaving at 625 m.
    expect(Math.abs(found[0]!.ts - (t0 + 57_500))).toBeLessThan(500);
    expect(Math.abs(found[1]!.ts - (t0 + 62_500))).toBeLessThan(500);
    expect(found[0]).toMatchObject({
      deviceId: "van-1",
      geofenceId: fence.id,
      details: { name: "gate" },
    });
    await waitFor(() => live.length === 2, { what: "two live events" });
    expect(live.map((e) => e.id)).toEqual(found.map((e) => e.id));
  });

  it("raises one overspeed per episode with its peak, and none for a short burst", async () => {
    await bed.start({ speedLimitKmh: 50, overspeedSeconds: 5 });
    const car = await bed.device("car-1");
    const t0 = makePosition().ts;
    // 2 s over (too short), then 8 s over peaking at 25 m/s, then back under.
    const speeds = [10, 15, 15, 10, 14, 16, 25, 18, 16, 15, 16, 15, 14, 10, 10];
    const fixes = speeds.map((speed, i) => ({
      ts: t0 + i * 1000,
      lat: DEPOT.lat,
      lon: east(i * 15),
      speed,
    }));
    for (const fix of fixes) await report(car, fix);
    await bed.server.locus.services.events.idle();
    const found = await events("?type=overspeed");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      type: "overspeed",
      ts: t0 + 4000,
      details: { peak: 25, limit: 13.89, durationS: 8 },
    });
  });

  it("raises the device's own alarms, and a low battery once until it is recharged", async () => {
    await bed.start({ lowBatteryPercent: 15 });
    const phone = await bed.device("phone-1");
    const t = makePosition().ts;
    // 12 % warns; 10 and 18 % do not (not recharged: the margin is 5 points); 25 % recharges.
    const batteries = [50, 12, 10, 18, 9, 25, 11];
    const fixes = batteries.map((battery, i) => ({
      ts: t + i * 10_000,
      lat: DEPOT.lat,
      lon: DEPOT.lon,
      battery,
      ...(i === 3 ? { attributes: { alarm: "sos" } } : {}),
    }));
    await report(phone, fixes);
    await bed.server.locus.services.events.idle();
    const found = (await events()).reverse();
    expect(found.map((e) => [e.type, e.ts - t, e.details])).toEqual([
      ["battery_low", 10_000, { battery: 12, threshold: 15 }],
      ["alarm", 30_000, { alarm: "sos" }],
      ["battery_low", 60_000, { battery: 11, threshold: 15 }],
    ]);
  });

  it("shows a viewer only the events of devices granted to them, and refuses a bad filter", async () => {
    const server = await bed.start({ geofenceHysteresisM: 0 });
    await addFence({ name: "zone", shape: { type: "circle", center: DEPOT, radius: 100 } });
    for (const id of ["mine", "theirs"]) {
      const device = await bed.device(id);
      const t = makePosition().ts;
      await report(device, { ts: t, lat: DEPOT.lat, lon: east(-500) });
      await report(device, { ts: t + 20_000, lat: DEPOT.lat, lon: DEPOT.lon });
    }
    await server.locus.services.events.idle();
    const add = await server.fetch("/api/admin/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "viewer",
        password: "viewer-password",
        role: "viewer",
        devices: ["mine"],
      }),
    });
    expect(add.status).toBe(201);
    const cookie = await signIn(server.url, "viewer", "viewer-password");
    const asViewer = (path: string) => fetch(`${server.url}${path}`, { headers: { cookie } });
    const seen = (await (await asViewer("/api/events")).json()).events as FleetEvent[];
    expect(seen.map((e) => e.deviceId)).toEqual(["mine"]);
    expect((await asViewer("/api/events?device=theirs")).status).toBe(404);
    const bad = await asViewer("/api/events?type=teleport");
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.field).toBe("type");
    // Viewers see fences but may not change them.
    expect((await asViewer("/api/geofences")).status).toBe(200);
    const post = await fetch(`${server.url}/api/geofences`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({
        name: "mine too",
        shape: { type: "circle", center: DEPOT, radius: 9 },
      }),
    });
    expect(post.status).toBe(403);
  });

  it("does not fire again after a restart, and derives what a crash left undone", async () => {
    // The truck's fixes are older than --offline-minutes: no offline events in this story.
    const settings = { geofenceHysteresisM: 0, offlineMinutes: 0 };
    const first = await bed.start(settings);
    await addFence({ name: "zone", shape: { type: "circle", center: DEPOT, radius: 100 } });
    const truck = await bed.device("truck");
    const t = makePosition().ts;
    await report(truck, { ts: t, lat: DEPOT.lat, lon: east(-500) });
    await report(truck, { ts: t + 20_000, lat: DEPOT.lat, lon: DEPOT.lon });
    await first.locus.services.events.idle();
    expect((await events()).map((e) => e.type)).toEqual(["geofence_enter"]);
    truck.close();
    await first.stop();

    // As if the process had died after committing a fix but before its events: a fix stored
    // behind the rules' back, by the store alone.
    const { startTestLocus } = await import("../support/locus.ts");
    const offline = await startTestLocus(settings, { db: first.db });
    await offline.locus.stores.positions.append([
      {
        deviceId: "truck",
        position: { ts: t + 40_000, lat: DEPOT.lat, lon: east(500) },
        receivedAt: Date.now(),
        flag: null,
      },
    ]);
    await offline.stop();

    const second = await startTestLocus(settings, { db: first.db });
    try {
      await second.locus.services.events.idle();
      const after = await (await second.fetch("/api/events")).json();
      expect(after.events.map((e: FleetEvent) => e.type)).toEqual([
        "geofence_exit",
        "geofence_enter",
      ]);
    } finally {
      await second.stop();
    }
  });
});
