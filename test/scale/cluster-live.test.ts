import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WsServerFrame } from "../../protocol/ws.ts";
import { CLUSTER_STORES, startCluster, type TestCluster } from "../support/cluster.ts";
import { connectDevice, Dashboard, makePosition, report, waitFor } from "../support/locus.ts";
import { startRedis, type LocalRedis } from "../support/redis.ts";
import { WsClient, wsUrl } from "../support/ws.ts";

// Issue #13: three nodes on one store, joined by a real redis-server. What a device reports on
// one node reaches dashboards and plain WebSocket viewers on the others, filtered per user.

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

const seenIds = (frames: WsServerFrame[]) =>
  new Set(
    frames
      .flatMap((f) => (f.type === "batch" || f.type === "snapshot" ? f.devices : []))
      .map((d) => d.id),
  );

describe.each(CLUSTER_STORES)("cluster on %s: live delivery across nodes", (store) => {
  it("shows a device reporting to node A on a dashboard on B and a plain WebSocket viewer on C", async () => {
    cluster = await startCluster(3, { store, redisUrl: redis.url, overrides: { tickMs: 50 } });
    const [a, b, c] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];
    const { people } = a.locus.services;
    await a.fetch("/api/admin/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "vera", role: "viewer", devices: ["van-9"] }),
    });
    const dashboard = track(new Dashboard(b.url, b.adminCookie));
    const admin = track(
      await WsClient.open(wsUrl(c.url, `?token=${await people.createApiToken("admin")}`)),
    );
    const vera = track(
      await WsClient.open(wsUrl(c.url, `?token=${await people.createApiToken("vera")}`)),
    );
    await waitFor(() => dashboard.snapshots.length > 0, { what: "B's snapshot" });
    await admin.frame("snapshot");
    await vera.frame("snapshot");

    const truck = track(await connectDevice(a.url, "truck-1"));
    const van = track(await connectDevice(a.url, "van-9"));
    const fix = makePosition({ lat: 48.1 });
    expect(await report(truck, fix)).toMatchObject({ ok: true, accepted: 1 });
    const vanFix = makePosition({ lat: 48.2 });
    expect(await report(van, vanFix)).toMatchObject({ ok: true, accepted: 1 });

    await waitFor(() => dashboard.latest("truck-1")?.ts === fix.ts, { what: "truck-1 on B" });
    await admin.frame("batch", (f) =>
      f.devices.some((d) => d.id === "truck-1" && d.position?.ts === fix.ts),
    );
    await vera.frame("batch", (f) =>
      f.devices.some((d) => d.id === "van-9" && d.position?.ts === vanFix.ts),
    );
    // Every fix once, newest as `position`, on the remote dashboard as on a local one.
    expect(dashboard.deliveredTimes("truck-1")).toEqual([fix.ts]);
    // Filtered per user on the node that serves the viewer.
    await new Promise((r) => setTimeout(r, 200));
    expect(seenIds(vera.frames)).toEqual(new Set(["van-9"]));
    // Seen live, and present in a snapshot taken on a third node.
    const late = track(new Dashboard(c.url, c.adminCookie));
    await waitFor(() => late.snapshots.length > 0, { what: "C's snapshot" });
    expect(late.snapshots[0]!.devices.find((d) => d.id === "truck-1")?.position).toEqual(fix);
  });
});
