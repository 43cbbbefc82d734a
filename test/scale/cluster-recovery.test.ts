import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_STORES, startCluster, type TestCluster } from "../support/cluster.ts";
import {
  connectDevice,
  Dashboard,
  makePosition,
  report,
  signIn,
  waitFor,
  type TestLocus,
} from "../support/locus.ts";
import { startRedis, type LocalRedis } from "../support/redis.ts";

// Issue #13: with the cluster adapter, a dashboard that loses its link for a moment is replayed
// the batches it missed (connection state recovery) instead of a snapshot, unless what it may see
// changed meanwhile: then it starts over from a snapshot under its new grants.

let redis: LocalRedis;
let cluster: TestCluster | undefined;
const closers: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T) => (closers.push(c), c);

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const c of closers.splice(0)) c.close();
  await cluster?.dispose();
  cluster = undefined;
});
afterAll(() => redis?.stop());

async function twoNodes(store: (typeof CLUSTER_STORES)[number]) {
  cluster = await startCluster(2, { store, redisUrl: redis.url, overrides: { tickMs: 50 } });
  return cluster.nodes as [TestLocus, TestLocus];
}

/** A viewer granted truck-1, added through node A's admin API. */
async function addVera(a: TestLocus): Promise<void> {
  const added = await a.fetch("/api/admin/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "vera",
      role: "viewer",
      devices: ["truck-1"],
      password: "vera-pass-1",
    }),
  });
  expect(added.status).toBe(201);
}

/** Drop the dashboard's link as a network would, and let it come back after `ms`. */
function loseLink(dashboard: Dashboard, ms: number): Promise<void> {
  const manager = dashboard.socket.io;
  manager.reconnectionDelay(ms).reconnectionDelayMax(ms).randomizationFactor(0);
  const back = new Promise<void>((resolve) => dashboard.socket.once("connect", () => resolve()));
  manager.engine.close();
  return back;
}

describe.each(CLUSTER_STORES)("cluster on %s: dashboards reconnecting", (store) => {
  it("replays what a dashboard missed during a short disconnect, without a snapshot", async () => {
    const [a, b] = await twoNodes(store);
    await addVera(a);
    // One dashboard sharing the all-devices broadcast, one limited one fed its own slices.
    const admin = track(new Dashboard(b.url, b.adminCookie));
    const vera = track(new Dashboard(b.url, await signIn(b.url, "vera", "vera-pass-1")));
    const truck = track(await connectDevice(a.url, "truck-1"));
    const first = makePosition({ lat: 45.1 });
    expect(await report(truck, first)).toMatchObject({ ok: true, accepted: 1 });
    for (const dashboard of [admin, vera]) {
      await waitFor(() => dashboard.latest("truck-1")?.ts === first.ts, { what: "the first fix" });
    }

    const back = [loseLink(admin, 800), loseLink(vera, 800)];
    const missed = makePosition({ lat: 45.1001 });
    expect(await report(truck, missed)).toMatchObject({ ok: true, accepted: 1 });
    await new Promise((r) => setTimeout(r, 300)); // B's ticks send it while the links are down
    expect(admin.socket.connected || vera.socket.connected).toBe(false);
    await Promise.all(back);

    for (const dashboard of [admin, vera]) {
      await waitFor(() => dashboard.latest("truck-1")?.ts === missed.ts, {
        what: "the missed fix",
      });
      expect(dashboard.socket.recovered).toBe(true);
      expect(dashboard.snapshots).toHaveLength(1);
      expect(dashboard.deliveredTimes("truck-1")).toEqual([first.ts, missed.ts]);
    }
  });

  it("does not recover a viewer whose grants changed on another node while away", async () => {
    const [a, b] = await twoNodes(store);
    await addVera(a);
    const onB = track(new Dashboard(b.url, await signIn(b.url, "vera", "vera-pass-1")));
    const truck = track(await connectDevice(a.url, "truck-1"));
    const fix = makePosition();
    expect(await report(truck, fix)).toMatchObject({ ok: true, accepted: 1 });
    await waitFor(() => onB.latest("truck-1")?.ts === fix.ts, { what: "truck-1 for vera" });

    const back = loseLink(onB, 800);
    const regrant = await a.fetch("/api/admin/users/vera", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ role: "viewer", devices: ["van-9"] }),
    });
    expect(regrant.status).toBe(200);
    expect(await report(truck, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    await back;

    await waitFor(() => onB.snapshots.length === 2, { what: "a fresh snapshot" });
    expect(onB.socket.recovered).toBe(false);
    expect(onB.snapshots[1]!.devices.map((d) => d.id)).not.toContain("truck-1");
  });
});
