import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import { CLUSTER_STORES, startCluster, type TestCluster } from "../support/cluster.ts";
import { connectDevice, Dashboard, makePosition, report, waitFor } from "../support/locus.ts";
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

describe.each(CLUSTER_STORES)("cluster on %s: geofence events across nodes", (store) => {
  it("raises an enter on node B for a fence added on A, seen once by a dashboard on C", async () => {
    cluster = await startCluster(3, { store, redisUrl: redis.url, overrides: { tickMs: 50 } });
    const [a, b, c] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];
    const dashboard = new Dashboard(c.url, c.adminCookie);
    closers.push(dashboard);
    const live: FleetEvent[] = [];
    dashboard.socket.on("fleet:event", (e) => live.push(e));
    await waitFor(() => dashboard.snapshots.length > 0, { what: "C's snapshot" });

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
});
