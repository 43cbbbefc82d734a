import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WS_CLOSE } from "../../protocol/ws.ts";
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
import { WsClient, wsUrl } from "../support/ws.ts";

// Issue #13: a rule decided on one node holds on every node. Access withdrawn on A ends the
// user's feeds on B and C; a device removed on A is cut off on B; a device that moves from A to B
// is judged against its last fix from A.

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

async function threeNodes(store: (typeof CLUSTER_STORES)[number]) {
  cluster = await startCluster(3, { store, redisUrl: redis.url, overrides: { tickMs: 50 } });
  return cluster.nodes as [TestLocus, TestLocus, TestLocus];
}

const json = (method: string, body?: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: body === undefined ? undefined : JSON.stringify(body),
});

/** A dashboard that also records why its socket was disconnected. */
function dashboardOn(node: TestLocus, cookie: string) {
  const dashboard = track(new Dashboard(node.url, cookie));
  const reasons: string[] = [];
  dashboard.socket.on("disconnect", (reason) => reasons.push(reason));
  return { dashboard, reasons };
}

describe.each(CLUSTER_STORES)("cluster on %s: rules across nodes", (store) => {
  it("ends a viewer's feeds on B and C when their grants change or they are removed on A", async () => {
    const [a, b, c] = await threeNodes(store);
    const added = await a.fetch(
      "/api/admin/users",
      json("POST", { name: "vera", role: "viewer", devices: ["truck-1"], password: "vera-pass-1" }),
    );
    expect(added.status).toBe(201);
    const cookie = await signIn(b.url, "vera", "vera-pass-1");
    const token = await a.locus.services.people.createApiToken("vera");

    const onB = dashboardOn(b, cookie);
    const onC = track(await WsClient.open(wsUrl(c.url, `?token=${token}`)));
    await waitFor(() => onB.dashboard.snapshots.length > 0, { what: "vera's snapshot on B" });
    await onC.frame("snapshot");

    const regrant = await a.fetch(
      "/api/admin/users/vera",
      json("PATCH", { role: "viewer", devices: ["van-9"] }),
    );
    expect(regrant.status).toBe(200);
    await waitFor(() => onB.reasons.includes("io server disconnect"), {
      what: "B to end vera's dashboard",
    });
    expect((await onC.waitClosed()).code).toBe(WS_CLOSE.accessChanged);

    // Reconnected under the new grants, then removed on A: refused everywhere.
    const again = dashboardOn(b, cookie);
    const againC = track(await WsClient.open(wsUrl(c.url, `?token=${token}`)));
    await waitFor(() => again.dashboard.snapshots.length > 0, { what: "vera's new snapshot" });
    await againC.frame("snapshot");
    expect((await a.fetch("/api/admin/users/vera", json("DELETE"))).status).toBe(204);
    await waitFor(() => again.reasons.includes("io server disconnect"), {
      what: "B to end the removed user's dashboard",
    });
    expect((await againC.waitClosed()).code).toBe(WS_CLOSE.unauthorized);
    const refused = await new Promise<unknown>((resolve) => {
      again.dashboard.socket.once("connect_error", (err: Error & { data?: unknown }) =>
        resolve(err.data),
      );
      again.dashboard.socket.connect();
    });
    expect(refused).toMatchObject({ code: "unauthorized" });
  });

  it("cuts off a device connected to B and drops it from C's map when A removes it", async () => {
    const [a, b, c] = await threeNodes(store);
    const truck = track(await connectDevice(b.url, "truck-1"));
    const gone = new Promise<string>((resolve) => truck.once("disconnect", resolve));
    expect(await report(truck, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    const onC = track(new Dashboard(c.url, c.adminCookie));
    await waitFor(() => onC.latest("truck-1"), { what: "truck-1 on C" });

    expect((await a.fetch("/api/admin/devices/truck-1", json("DELETE"))).status).toBe(200);
    expect(await gone).toBe("io server disconnect");
    await waitFor(() => onC.batches.some(({ batch }) => batch.removed?.includes("truck-1")), {
      what: "C to drop truck-1",
    });
  });

  it("judges a device that moves from A to B against its last fix from A", async () => {
    const [a, b, c] = await threeNodes(store);
    const onC = track(new Dashboard(c.url, c.adminCookie));
    const onA = track(new Dashboard(a.url, a.adminCookie));
    const onB = track(new Dashboard(b.url, b.adminCookie));

    const viaA = await connectDevice(a.url, "truck-1");
    const berlin = makePosition({ lat: 52.52, lon: 13.405, speed: 8 });
    expect(await report(viaA, berlin)).toMatchObject({ ok: true, accepted: 1 });
    await waitFor(() => onB.latest("truck-1")?.ts === berlin.ts, { what: "B to learn the fix" });
    viaA.close();

    const viaB = track(await connectDevice(b.url, "truck-1"));
    // Munich, 500 km in one second: stored and acknowledged, but flagged and kept off the map.
    const teleport = makePosition({ ts: berlin.ts + 1000, lat: 48.137, lon: 11.575, speed: 8 });
    expect(await report(viaB, teleport)).toMatchObject({ ok: true, accepted: 1 });
    const onward = makePosition({ ts: berlin.ts + 2000, lat: 52.5201, lon: 13.405, speed: 8 });
    const reportedAt = Date.now();
    expect(await report(viaB, onward)).toMatchObject({ ok: true, accepted: 1 });

    const history = await b.fetch("/api/devices/truck-1/positions?flagged=include");
    const { positions } = (await history.json()) as { positions: { ts: number; flag?: string }[] };
    expect(positions.map((p) => [p.ts, p.flag ?? "ok"])).toEqual([
      [berlin.ts, "ok"],
      [teleport.ts, "implied_speed"],
      [onward.ts, "ok"],
    ]);
    // Every node shows the device where it really is, online and moving.
    for (const dashboard of [onA, onB, onC]) {
      await waitFor(() => dashboard.latest("truck-1")?.ts === onward.ts, { what: "onward fix" });
      expect(dashboard.deliveredTimes("truck-1")).not.toContain(teleport.ts);
    }
    const onCNow = onC.batches.at(-1)!.batch.devices.find((d) => d.id === "truck-1")!;
    expect(onCNow.status).toBe("moving");
    expect(onCNow.lastSeen).toBeGreaterThanOrEqual(reportedAt);
  });
});
