import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import type { Config } from "../../server/config.ts";
import {
  CLUSTER_STORES,
  startCluster,
  type ClusterStore,
  type TestCluster,
} from "../support/cluster.ts";
import {
  connectDevice,
  Dashboard,
  makePosition,
  report,
  waitFor,
  type TestLocus,
} from "../support/locus.ts";
import { startRedis, type LocalRedis } from "../support/redis.ts";

// Issue #14 on a cluster (issue #13): a fence drawn on one node is known at once to the node a
// device reports to, and the event it raises reaches a dashboard on a third node, once.

let redis: LocalRedis;
let cluster: TestCluster | undefined;
const closers: { close(): void }[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const c of closers.splice(0)) c.close();
  await cluster?.dispose();
  cluster = undefined;
});
afterAll(() => redis?.stop());

const DEPOT = { lat: 48.1, lon: 11.5 };
const east = (m: number) => DEPOT.lon + m / (111_320 * Math.cos((DEPOT.lat * Math.PI) / 180));

/** Three nodes sharing `store`, and a dashboard on the third collecting the events it is sent. */
async function watchedCluster(store: ClusterStore, overrides: Partial<Config>) {
  const started = await startCluster(3, { store, redisUrl: redis.url, overrides });
  cluster = started;
  const [a, b, c] = started.nodes as [TestLocus, TestLocus, TestLocus];
  const dashboard = new Dashboard(c.url, c.adminCookie);
  closers.push(dashboard);
  const live: FleetEvent[] = [];
  dashboard.socket.on("fleet:event", (e) => live.push(e));
  await waitFor(() => dashboard.snapshots.length > 0, { what: "C's snapshot" });
  return { nodes: started.nodes, a, b, live };
}

describe.each(CLUSTER_STORES)("cluster on %s: geofence events across nodes", (store) => {
  it("raises an enter on node B for a fence added on A, seen once by a dashboard on C", async () => {
    // The van's fixes are an hour old: offline is the next test's story.
    const overrides = { tickMs: 50, offlineMinutes: 0 };
    const { a, b, live } = await watchedCluster(store, overrides);

    const added = await a.fetch("/api/geofences", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "yard", shape: { type: "circle", center: DEPOT, radius: 60 } }),
    });
    expect(added.status).toBe(201);
    const fence = (await added.json()) as { id: number };
    await waitFor(() => b.locus.services.geofences.indexed(fence.id), { what: "the fence on B" });

    const van = await connectDevice(b.url, "van-1");
    closers.push(van);
    const t = makePosition().ts;
    await report(van, { ts: t, lat: DEPOT.lat, lon: east(-400) });
    await report(van, { ts: t + 20_000, lat: DEPOT.lat, lon: DEPOT.lon });

    await b.locus.services.events.idle();
    await waitFor(() => live.length > 0, { what: "the event on C" });
    await new Promise((r) => setTimeout(r, 300));
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({
      deviceId: "van-1",
      type: "geofence_enter",
      geofenceId: fence.id,
    });
    const listed = await (await a.fetch("/api/events")).json();
    expect(listed.events.map((e: FleetEvent) => e.id)).toEqual([live[0]!.id]);
  });

  it("records a silent device offline once, whichever node it reported to, and online once when it is back", async () => {
    const { nodes, a, b, live } = await watchedCluster(store, { tickMs: 50, offlineMinutes: 10 });

    // Reported to B eleven minutes ago, silent since.
    const van = await connectDevice(b.url, "van-2");
    closers.push(van);
    const last = { ts: Date.now() - 11 * 60_000, lat: DEPOT.lat, lon: DEPOT.lon };
    await report(van, last);
    await b.locus.services.events.idle();
    // Every node sweeps, at once and over and over, as their timers would, until the leader has
    // heard of the fix from B and C has the event.
    const sweepAll = () => Promise.all(nodes.map((n) => n.locus.services.offline.sweep()));
    await waitFor(
      async () => {
        await sweepAll();
        return live.some((e) => e.type === "offline");
      },
      { what: "offline on C" },
    );
    await sweepAll();

    // Back, through A.
    van.close();
    const back = await connectDevice(a.url, "van-2");
    closers.push(back);
    const fresh = { ts: Date.now(), lat: DEPOT.lat, lon: east(50) };
    await report(back, fresh);
    await a.locus.services.events.idle();
    await waitFor(() => live.some((e) => e.type === "online"), { what: "online on C" });
    await sweepAll();
    await new Promise((r) => setTimeout(r, 300));

    const presence = (e: FleetEvent) => e.type === "offline" || e.type === "online";
    expect(live.filter(presence).map((e) => [e.type, e.ts])).toEqual([
      ["offline", last.ts + 10 * 60_000],
      ["online", fresh.ts],
    ]);
    const listed = (await (await b.fetch("/api/events?type=offline,online")).json()) as {
      events: FleetEvent[];
    };
    expect(listed.events.map((e) => e.id)).toEqual(
      live
        .filter(presence)
        .map((e) => e.id)
        .reverse(),
    );
  });
});
