import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { io } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WS_CLOSE } from "../../protocol/ws.ts";
import { CLUSTER_NAMESPACE, EVENTS } from "../../server/cluster/messages.ts";
import { connectRedis } from "../../server/cluster/redis.ts";
import { silentLogger } from "../../server/logger.ts";
import { CLUSTER_STORES, startCluster, type TestCluster } from "../support/cluster.ts";
import {
  connectDevice,
  Dashboard,
  makePosition,
  report,
  signIn,
  startTestLocus,
  waitFor,
  type TestLocus,
} from "../support/locus.ts";
import { freePort } from "../support/postgres.ts";
import { startRedis, type LocalRedis } from "../support/redis.ts";
import { WsClient, wsUrl } from "../support/ws.ts";

// Issue #13: Redis is the cluster's relay, never a condition of ingest. When it goes away, acks
// go on; when it is back, live delivery resumes and dashboards resynchronise.

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

describe("starting a node", () => {
  it("fails fast, naming the setting, when Redis cannot be reached", async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), "locus-no-redis-"));
    const failure = await startTestLocus({ redisUrl: url }, { db: join(dir, "locus.db") })
      .then(
        () => null,
        (err: Error) => err.message,
      )
      .finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(failure).toMatch(
      /^--redis-url \(LOCUS_REDIS_URL\): cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/?: connect ECONNREFUSED/,
    );
    expect(failure).not.toContain("hunter2");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("the adapter's stream", () => {
  it("keeps only the recovery window's worth of entries, not the adapter's 10,000 batches", async () => {
    const link = await connectRedis(redis.url, silentLogger, 300);
    const probe = new Redis(redis.url);
    try {
      for (let i = 0; i < 250; i++) await probe.xadd("socket.io", "*", "payload", "x".repeat(100));
      expect(await probe.xlen("socket.io")).toBeGreaterThanOrEqual(250);
      // Entries older than the window go (whole stream nodes at a time: "~" trimming).
      await waitFor(async () => (await probe.xlen("socket.io")) < 100, {
        what: "the stream trimmed by age",
      });
      await probe.xadd("socket.io", "*", "payload", "fresh");
      expect(await probe.xlen("socket.io")).toBeGreaterThan(0);
    } finally {
      probe.disconnect();
      await link.close();
    }
  });
});

describe.each(CLUSTER_STORES)("cluster on %s: Redis away and back", (store) => {
  it("keeps acking while Redis is down, then resumes delivery and resyncs the other node's dashboard", async () => {
    const [a, b] = await twoNodes(store);
    const onB = track(new Dashboard(b.url, b.adminCookie));
    const truck = track(await connectDevice(a.url, "truck-1"));
    const before = makePosition({ lat: 50.1 });
    expect(await report(truck, before)).toMatchObject({ ok: true, accepted: 1 });
    await waitFor(() => onB.latest("truck-1")?.ts === before.ts, { what: "the first fix on B" });

    await redis.halt();
    const during = makePosition({ lat: 50.1001 });
    const sent = Date.now();
    expect(await report(truck, during)).toMatchObject({ ok: true, accepted: 1 });
    expect(Date.now() - sent).toBeLessThan(2000);
    // Said, but not critical: the node takes and stores reports.
    const health = await fetch(`${b.url}/api/health`);
    expect(health.status).toBe(200);
    expect((await health.json()).checks.redis).toEqual({
      ok: false,
      reason: "unreachable: live delivery across nodes paused",
    });
    const snapshotsBefore = onB.snapshots.length;

    await redis.start();
    // B missed the fix A committed meanwhile: it re-reads it and sends its dashboard a snapshot.
    const resync = await waitFor(
      () =>
        onB.snapshots
          .slice(snapshotsBefore)
          .find((s) => s.devices.some((d) => d.id === "truck-1" && d.position?.ts === during.ts)),
      { timeoutMs: 15_000, what: "a resync snapshot on B with the fix it missed" },
    );
    expect(resync.devices.find((d) => d.id === "truck-1")?.position).toEqual(during);

    // Live again: a new fix on A reaches B. Subscriptions come back on their own reconnects,
    // so a fix may be reported before B listens again; a newer one then must arrive.
    const deadline = Date.now() + 15_000;
    let delivered: number | undefined;
    const reported: number[] = [];
    while (delivered === undefined && Date.now() < deadline) {
      const fix = makePosition({ lat: 50.1002 });
      expect(await report(truck, fix)).toMatchObject({ ok: true, accepted: 1 });
      reported.push(fix.ts);
      await waitFor(() => onB.latest("truck-1")?.ts === fix.ts, { timeoutMs: 500 }).then(
        () => (delivered = fix.ts),
        () => undefined,
      );
    }
    expect(delivered).toBeDefined();
    expect(onB.deliveredTimes("truck-1")).toContain(delivered);
  });

  it("notices a Redis that stops answering without closing, keeps acking, and recovers", async () => {
    const [a, b] = await twoNodes(store);
    const onB = track(new Dashboard(b.url, b.adminCookie));
    const truck = track(await connectDevice(a.url, "truck-1"));
    expect(await report(truck, makePosition({ lat: 51.1 }))).toMatchObject({ ok: true });
    await waitFor(() => onB.latest("truck-1"), { what: "the first fix on B" });

    const redisHealth = async (node: TestLocus) =>
      ((await (await fetch(`${node.url}/api/health`)).json()) as any).checks.redis.ok as boolean;
    redis.freeze();
    try {
      const during = makePosition({ lat: 51.1001 });
      const sent = Date.now();
      expect(await report(truck, during)).toMatchObject({ ok: true, accepted: 1 });
      expect(Date.now() - sent).toBeLessThan(2000);
      // Found out by its unanswered PING, on both nodes.
      for (const node of [a, b]) {
        const deadline = Date.now() + 10_000;
        while ((await redisHealth(node)) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(await redisHealth(node)).toBe(false);
      }
      const snapshotsBefore = onB.snapshots.length;
      redis.thaw();
      await waitFor(
        () =>
          onB.snapshots
            .slice(snapshotsBefore)
            .some((s) => s.devices.some((d) => d.position?.ts === during.ts)),
        { timeoutMs: 15_000, what: "a resync snapshot on B once Redis answers again" },
      );
      expect(await redisHealth(b)).toBe(true);
    } finally {
      redis.thaw();
    }
  });

  it("ends feeds on B of a user removed on A while Redis was away, once it is back", async () => {
    const [a, b] = await twoNodes(store);
    const added = await a.fetch("/api/admin/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "vera",
        role: "viewer",
        devices: "all",
        password: "vera-pass-1",
      }),
    });
    expect(added.status).toBe(201);
    const onB = track(new Dashboard(b.url, await signIn(b.url, "vera", "vera-pass-1")));
    const reasons: string[] = [];
    onB.socket.on("disconnect", (reason) => reasons.push(reason));
    const token = await a.locus.services.people.createApiToken("vera");
    const viewer = track(await WsClient.open(wsUrl(b.url, `?token=${token}`)));
    await waitFor(() => onB.snapshots.length > 0, { what: "vera's dashboard on B" });
    await viewer.frame("snapshot");

    await redis.halt();
    expect((await a.fetch("/api/admin/users/vera", { method: "DELETE" })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    expect(reasons).toEqual([]); // B could not know yet
    await redis.start();

    await waitFor(() => reasons.includes("io server disconnect"), {
      timeoutMs: 15_000,
      what: "B to end the removed user's dashboard",
    });
    expect((await viewer.waitClosed(15_000)).code).toBe(WS_CLOSE.unauthorized);
  });

  it("drops malformed bus messages without harm and applies well-formed ones", async () => {
    const [a, b] = await twoNodes(store);
    const onB = track(new Dashboard(b.url, b.adminCookie));
    await waitFor(() => onB.snapshots.length > 0, { what: "B's snapshot" });

    // Another member of the cluster, speaking through the same adapter.
    const client = new Redis(redis.url);
    const peer = new Server(createServer().listen(0, "127.0.0.1"), {
      adapter: createAdapter(client),
    });
    try {
      await new Promise((r) => setTimeout(r, 300)); // its subscriptions
      const bus = peer.of(CLUSTER_NAMESPACE);
      const good = makePosition({ lat: 47.3 });
      for (const bad of [
        null,
        "fixes",
        [["ghost", Date.now()]],
        [["bad id!", Date.now(), [good]]],
        [["ghost", "yesterday", [good]]],
        [["ghost", Date.now(), [{ ts: good.ts, lat: 91, lon: 0 }]]],
        [["ghost", Date.now(), [{ ts: "x", lat: 1, lon: 1 }]]],
      ]) {
        bus.serverSideEmit(EVENTS.fixes, bad);
      }
      bus.serverSideEmit(EVENTS.device, { type: "exploded", deviceId: "ghost" });
      bus.serverSideEmit(EVENTS.feedsEnd, { user: "admin", why: "because" });
      bus.serverSideEmit(EVENTS.fixes, [["ghost", Date.now(), [good]]]);
      // No client may join the bus, even a signed-in one.
      const intruder = io(`${b.url}${CLUSTER_NAMESPACE}`, {
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
        extraHeaders: { cookie: b.adminCookie },
      });
      const refusal = await new Promise<string>((resolve) => {
        intruder.once("connect", () => resolve("connected"));
        intruder.once("connect_error", (err) => resolve(err.message));
      });
      intruder.close();
      expect(refusal).toBe("not a client namespace");

      await waitFor(() => onB.latest("ghost")?.ts === good.ts, { what: "the good fix on B" });
      expect(onB.deliveredTimes("ghost")).toEqual([good.ts]);
      // Nothing ended the admin's feed, and both nodes still take reports.
      expect(onB.socket.connected).toBe(true);
      const truck = track(await connectDevice(a.url, "truck-1"));
      expect(await report(truck, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    } finally {
      await peer.close();
      client.disconnect();
    }
  });
});
