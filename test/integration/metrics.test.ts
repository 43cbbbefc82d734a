import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { ReportAck } from "../../protocol/index.ts";
import { get } from "../support/http-devices.ts";
import {
  makePosition,
  report,
  runCli,
  signIn,
  useTestBed,
  waitFor,
  type DeviceSocket,
} from "../support/locus.ts";
import { WsClient, wsUrl } from "../support/ws.ts";

const bed = useTestBed();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format as prom-client writes it: one sample per line, `#` lines skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The one sample with exactly these labels, or undefined. */
function sample(samples: Sample[], name: string, labels: Record<string, string> = {}) {
  const wanted = Object.entries(labels);
  return samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === wanted.length &&
      wanted.every(([k, v]) => s.labels[k] === v),
  )?.value;
}

async function scrape(headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await bed.server.fetch("/metrics", { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

async function viewerCookie(name: string): Promise<string> {
  const res = await bed.server.fetch("/api/admin/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, role: "viewer", devices: "all" }),
  });
  expect(res.status).toBe(201);
  const { password } = (await res.json()) as { password: string };
  return signIn(bed.server.url, name, password);
}

describe("GET /metrics", () => {
  it("counts positions by transport and reason where the positions service decides, and times commits and acks", async () => {
    const server = await bed.start();
    const sio = await bed.device("sio-van");
    const ws = bed.track(await WsClient.open(wsUrl(server.url, "?deviceId=ws-van")));
    await ws.frame("ready");

    // socket.io: 3 stored, 1 resent (duplicate), 2 bad positions beside a good one, 1 unusable message.
    const [a, b, c] = [makePosition(), makePosition(), makePosition()];
    expect(await report(sio, [a, b])).toMatchObject({ ok: true, accepted: 2 });
    expect(await report(sio, [a, c, { ...makePosition(), lat: 91 }, { lat: 1 }])).toMatchObject({
      ok: true,
      accepted: 1,
      duplicates: 1,
      rejected: [{ index: 2 }, { index: 3 }],
    });
    expect(await report(sio, [])).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    // Plain WebSocket: 2 stored, then both again, then one position far in the future.
    const [d, e] = [makePosition(), makePosition()];
    expect(await ws.report(1, [d, e])).toMatchObject({ ok: true, accepted: 2 });
    expect(await ws.report(2, [d, e])).toMatchObject({ ok: true, duplicates: 2 });
    const future = makePosition({ ts: Date.now() + 3_600_000 });
    expect(await ws.report(3, future)).toMatchObject({ ok: true, rejected: [{ field: "ts" }] });
    // OsmAnd over HTTP: one stored, one refused by the position rules (lat 91).
    expect((await get(server.url, `/osmand?id=phone&lat=52.5&lon=13.4`)).status).toBe(200);
    expect((await get(server.url, `/osmand?id=phone&lat=91&lon=13.4`)).status).toBe(400);
    // A file import over REST: a point already stored, a new one, one breaking a rule.
    const point = (lat: number, ts: number) =>
      `<trkpt lat="${lat}" lon="13.4"><time>${new Date(ts).toISOString()}</time></trkpt>`;
    const gpx = `<gpx version="1.1" creator="test"><trk><trkseg>${point(52.5, a.ts)}${point(
      52.5,
      makePosition().ts,
    )}${point(91, makePosition().ts)}</trkseg></trk></gpx>`;
    const imported = await server.fetch("/api/devices/sio-van/import?format=gpx", {
      method: "POST",
      body: gpx,
    });
    expect(await imported.json()).toMatchObject({ accepted: 1, duplicates: 1, rejected: 1 });

    const m = await scrape();
    const counted = (name: string, labels: Record<string, string>) =>
      sample(m, `locus_positions_${name}_total`, labels);
    expect(counted("accepted", { transport: "socketio" })).toBe(3);
    expect(counted("duplicate", { transport: "socketio" })).toBe(1);
    expect(counted("rejected", { transport: "socketio", reason: "invalid_payload" })).toBe(2);
    expect(counted("accepted", { transport: "ws" })).toBe(2);
    expect(counted("duplicate", { transport: "ws" })).toBe(2);
    expect(counted("rejected", { transport: "ws", reason: "invalid_payload" })).toBe(1);
    expect(counted("accepted", { transport: "osmand" })).toBe(1);
    expect(counted("rejected", { transport: "osmand", reason: "invalid_payload" })).toBe(1);
    expect(counted("accepted", { transport: "rest" })).toBe(1);
    expect(counted("duplicate", { transport: "rest" })).toBe(1);
    expect(counted("rejected", { transport: "rest", reason: "invalid_payload" })).toBe(1);
    // Every transport's series exists from the start, at 0.
    expect(counted("accepted", { transport: "owntracks" })).toBe(0);
    expect(counted("rejected", { transport: "owntracks", reason: "invalid_payload" })).toBe(
      undefined,
    );

    // One ack latency per report; "invalid_payload" for an empty array costs no commit.
    expect(sample(m, "locus_ack_latency_seconds_count", { transport: "socketio" })).toBe(3);
    expect(sample(m, "locus_ack_latency_seconds_count", { transport: "ws" })).toBe(3);
    expect(sample(m, "locus_ack_latency_seconds_count", { transport: "osmand" })).toBe(2);
    expect(sample(m, "locus_ack_latency_seconds_count", { transport: "rest" })).toBe(0);
    expect(sample(m, "locus_ack_latency_seconds_sum", { transport: "socketio" })).toBeGreaterThan(
      0,
    );

    // The commit histograms saw every group commit the store counted, and every row offered.
    const health = await (await server.fetch("/api/health")).json();
    expect(health.ingest.commits).toBeGreaterThan(0);
    expect(sample(m, "locus_commit_rows_count")).toBe(health.ingest.commits);
    expect(sample(m, "locus_commit_rows_sum")).toBe(health.ingest.rows);
    expect(sample(m, "locus_commit_duration_seconds_count")).toBe(health.ingest.commits);
    expect(sample(m, "locus_commit_rows_bucket", { le: "+Inf" })).toBe(health.ingest.commits);
    expect(sample(m, "locus_commit_failures_total")).toBe(0);

    expect(sample(m, "locus_health_ok", { check: "store" })).toBe(1);
    expect(sample(m, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(m, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  it("counts every position of a message refused whole under its code (rate_limited)", async () => {
    await bed.start({ rateLimit: 0.01, rateBurst: 1 });
    const device = await bed.device("chatty");
    expect(await report(device, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    const refused = await report(device, [makePosition(), makePosition(), makePosition()]);
    expect(refused).toMatchObject({ ok: false, error: { code: "rate_limited" } });

    const m = await scrape();
    const rejected = { transport: "socketio", reason: "rate_limited" };
    expect(sample(m, "locus_positions_rejected_total", rejected)).toBe(3);
    expect(sample(m, "locus_positions_accepted_total", { transport: "socketio" })).toBe(1);
    expect(sample(m, "locus_ack_latency_seconds_count", { transport: "socketio" })).toBe(2);
  });

  it("gauges devices, dashboards and plain WebSocket viewers connected at the time of the scrape", async () => {
    const server = await bed.start();
    const connected = async () => {
      const m = await scrape();
      return [
        sample(m, "locus_connected_devices", { transport: "socketio" }),
        sample(m, "locus_connected_devices", { transport: "ws" }),
        sample(m, "locus_connected_dashboards"),
        sample(m, "locus_connected_ws_viewers"),
      ];
    };
    expect(await connected()).toEqual([0, 0, 0, 0]);

    const devices: DeviceSocket[] = [await bed.device("one"), await bed.device("two")];
    const wsDevice = bed.track(await WsClient.open(wsUrl(server.url, "?deviceId=three")));
    await wsDevice.frame("ready");
    const dashboard = bed.dashboard();
    await waitFor(() => dashboard.snapshots[0], { what: "snapshot" });
    const viewer = bed.track(
      await WsClient.open(wsUrl(server.url), { headers: { cookie: server.adminCookie } }),
    );
    await viewer.frame("snapshot");
    expect(await connected()).toEqual([2, 1, 1, 1]);

    devices[0]!.close();
    viewer.close();
    await viewer.waitClosed();
    await expect.poll(connected).toEqual([1, 1, 1, 0]);
  });

  it("is for admins and the scrape token: 401 without credentials, 403 for a viewer", async () => {
    const server = await bed.start({ metricsToken: "scrape-secret-1" });
    const status = async (headers: Record<string, string>) => {
      const res = await fetch(`${server.url}/metrics`, { headers });
      const body = res.status === 200 ? null : await res.json();
      return { status: res.status, code: body?.error?.code };
    };

    expect(await status({})).toEqual({ status: 401, code: "unauthorized" });
    expect(await status({ authorization: "Bearer wrong-secret" })).toEqual({
      status: 401,
      code: "unauthorized",
    });
    expect(await status({ cookie: await viewerCookie("vera") })).toEqual({
      status: 403,
      code: "forbidden",
    });
    const veraToken = (await runCli(server.db, "user", "token", "vera")).trim();
    expect(await status({ authorization: `Bearer ${veraToken}` })).toMatchObject({ status: 403 });

    expect(await status({ authorization: "Bearer scrape-secret-1" })).toEqual({ status: 200 });
    expect(await status({ cookie: server.adminCookie })).toEqual({ status: 200 });
    const adminToken = (await runCli(server.db, "user", "token", "admin")).trim();
    expect(await status({ authorization: `Bearer ${adminToken}` })).toEqual({ status: 200 });
  });

  it("takes no scrape token when none is configured", async () => {
    const server = await bed.start();
    // An empty Bearer is no credential at all: it must not match the empty default.
    for (const authorization of ["Bearer ", "Bearer  ", ""]) {
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization } });
      expect(res.status).toBe(401);
    }
  });
});

describe("GET /api/health when the store cannot commit", () => {
  it("answers 503 with the reason while another process holds the database's write lock, and 200 once a commit succeeds again", async () => {
    const server = await bed.start({ commitDelayMs: 0 });
    const device = await bed.device("held-up");
    expect(await report(device, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);

    // A backup tool or a stray sqlite3 shell holding the write lock past busy_timeout (5 s): the
    // storage worker's commit fails with SQLite's own "database is locked".
    const blocker = new Database(server.db);
    blocker.exec("BEGIN IMMEDIATE");
    let ack: ReportAck;
    try {
      ack = await device.timeout(15_000).emitWithAck("position:report", makePosition());
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    expect(ack).toEqual({ ok: false, error: { code: "internal", message: expect.any(String) } });

    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toMatchObject({
      ok: false,
      version: expect.any(String),
      ingest: { commits: 1, rows: 1 },
      checks: { store: { ok: false, reason: expect.stringMatching(/locked/) } },
    });
    const m = await scrape();
    expect(sample(m, "locus_health_ok", { check: "store" })).toBe(0);
    expect(sample(m, "locus_commit_failures_total")).toBe(1);
    expect(
      sample(m, "locus_positions_rejected_total", { transport: "socketio", reason: "internal" }),
    ).toBe(1);

    // The lock is gone: the device resends, the commit succeeds, the node is healthy again.
    expect(await report(device, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    const healed = await fetch(`${server.url}/api/health`);
    expect(healed.status).toBe(200);
    expect(await healed.json()).toMatchObject({ ok: true, checks: { store: { ok: true } } });
  });

  it("reports a registered optional check (a Redis adapter) in both, failing it without a 503", async () => {
    const server = await bed.start();
    let redis = { ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6379" };
    server.locus.health.register("redis", () => redis);

    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    expect((await res.json()).checks).toEqual({
      store: { ok: true },
      redis: { ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6379" },
    });
    expect(sample(await scrape(), "locus_health_ok", { check: "redis" })).toBe(0);

    redis = { ok: true, reason: "" };
    expect(sample(await scrape(), "locus_health_ok", { check: "redis" })).toBe(1);
    server.locus.health.register("broken", () => {
      throw new Error("probe crashed");
    });
    expect((await (await fetch(`${server.url}/api/health`)).json()).checks.broken).toEqual({
      ok: false,
      reason: "probe crashed",
    });
  });
});
