import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openDatabase } from "../../server/store/database.ts";
import { cpuSeconds, lastJson, rssMb, startNode, stop } from "../lib/proc.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { Children, sessionCookie, startLocus, urlOf } from "./common.ts";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 2000);
const DASHBOARDS = 10;
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const WARMUP_MS = 2000;

/** Raw better-sqlite3: the same rows (DEVICES interleaved) in batches of 1,000, same schema. */
function sqliteBaseline(dir: string): number {
  const file = join(dir, "baseline.db");
  openDatabase(file).close(); // same schema and pragmas as Locus
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_autocheckpoint = 10000");
  const insertDevice = db.prepare("INSERT INTO devices (uid, created_at) VALUES (?, 0)");
  for (let d = 0; d < DEVICES; d++) insertDevice.run(`dev-${d}`);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO positions (device, ts, lat, lon, speed, course, received_at)
     VALUES (?, ?, ?, ?, 10, 90, ?)`,
  );
  const commit = db.transaction((from: number, rows: number) => {
    for (let i = from; i < from + rows; i++) {
      insert.run((i % DEVICES) + 1, 1_700_000_000_000 + Math.floor(i / DEVICES), 52.5, 13.4, 0);
    }
  });
  const total = 400_000;
  const started = performance.now();
  for (let i = 0; i < total; i += 1000) commit(i, 1000);
  const rate = total / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

/** Locus's group-commit counters. */
async function commitStats(url: string): Promise<{ commits: number; rows: number }> {
  const reply = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5000) });
  return ((await reply.json()) as { ingest: { commits: number; rows: number } }).ingest;
}

/** Run devices + dashboards load generators against a server; measure the window. */
async function drive(url: string, serverPid: number, locus?: { cookie: string | undefined }) {
  const windowArgs = ["--duration-ms", String(DURATION_MS), "--warmup-ms", String(WARMUP_MS)];
  const dashboards = await startNode("bench/loadgen/dashboards.ts", [
    "--url",
    url,
    "--dashboards",
    String(DASHBOARDS),
    ...(locus?.cookie ? ["--cookie", locus.cookie] : []),
    ...windowArgs,
  ]);
  const devices = await startNode("bench/loadgen/devices.ts", [
    "--url",
    url,
    "--devices",
    String(DEVICES),
    "--batch",
    String(BATCH),
    ...windowArgs,
  ]);
  dashboards.child.stdin!.write("go\n");
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  // CPU % of one core over the measured window, for the server and each load generator, so
  // the reader can tell who was the bottleneck on the shared cores.
  const pids = [serverPid, devices.child.pid!, dashboards.child.pid!];
  const cpuBefore = pids.map(cpuSeconds);
  const windowDone = new Promise<number[]>((resolve) =>
    setTimeout(
      () =>
        resolve(pids.map((pid, i) => ((cpuSeconds(pid) - cpuBefore[i]!) * 100_000) / DURATION_MS)),
      DURATION_MS - 100,
    ),
  );
  // (The bare relay answers no plain HTTP, so it has no counters to read.)
  const commitsBefore = locus ? await commitStats(url) : null;
  const [deviceResult, dashboardResult, cpu] = await Promise.all([
    lastJson(devices.lines),
    lastJson(dashboards.lines),
    windowDone,
  ]);
  const [server, deviceGen, dashboardGen] = cpu as [number, number, number];
  const commitsAfter = locus ? await commitStats(url) : null;
  const commits =
    commitsBefore && commitsAfter
      ? {
          perSecond: (commitsAfter.commits - commitsBefore.commits) / (DURATION_MS / 1000),
          rowsEach:
            (commitsAfter.rows - commitsBefore.rows) /
            Math.max(1, commitsAfter.commits - commitsBefore.commits),
        }
      : null;
  return {
    deviceResult,
    dashboardResult,
    cpu: { server, deviceGen, dashboardGen },
    rss: rssMb(serverPid),
    commits,
  };
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const cpuFigures = (c: { server: number; deviceGen: number; dashboardGen: number }) =>
  [c.server, c.deviceGen, c.dashboardGen].map(Math.round).join(" / ");

export async function ingest(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
  try {
    const sqliteRate = sqliteBaseline(dir);

    const bare = await startNode("bench/bare-relay.ts", []);
    const bareRun = await drive(String(bare.ready.url), bare.child.pid!);
    await stop(bare.child);

    const children = new Children();
    const locus = await startLocus(children, join(dir, "locus.db"));
    const url = urlOf(locus);
    const locusRun = await drive(url, locus.child.pid!, { cookie: await sessionCookie(url) });
    await children.stopAll();

    const acked = locusRun.deviceResult.perSecond as number;
    const bareAcked = bareRun.deviceResult.perSecond as number;
    return {
      scenario: `ingest (${DEVICES} devices, batches of ${BATCH}, ${DASHBOARDS} dashboards)`,
      figures: {
        "positions/s acknowledged (committed)": Math.round(acked),
        "positions/s received per dashboard": Math.round(
          locusRun.dashboardResult.fixesPerDashboardPerSecond,
        ),
        "share of acknowledged positions each dashboard received": pct(
          locusRun.dashboardResult.fixesPerDashboardPerSecond / acked,
        ),
        "device updates/s received per dashboard": Math.round(
          locusRun.dashboardResult.updatesPerDashboardPerSecond,
        ),
        "messages/s per dashboard": Math.round(
          locusRun.dashboardResult.messagesPerDashboardPerSecond,
        ),
        "ack p50 / p99 ms": `${locusRun.deviceResult.ackP50} / ${locusRun.deviceResult.ackP99}`,
        "CPU % of one core: server / device load / dashboard load": cpuFigures(locusRun.cpu),
        "transactions/s, rows each": locusRun.commits
          ? `${Math.round(locusRun.commits.perSecond)}, ${Math.round(locusRun.commits.rowsEach)}`
          : "n/a",
        "server RSS MB": Math.round(locusRun.rss),
        errors: locusRun.deviceResult.errors as number,
      },
      baseline: {
        "bare socket.io relay positions/s acknowledged": Math.round(bareAcked),
        "bare relay CPU %: server / device load / dashboard load": cpuFigures(bareRun.cpu),
        "bare relay positions/s received per dashboard": Math.round(
          bareRun.dashboardResult.fixesPerDashboardPerSecond,
        ),
        "raw better-sqlite3 rows/s (batches of 1,000)": Math.round(sqliteRate),
      },
      ratio: acked / bareAcked,
      notes:
        "Server and load generators (one device process, one dashboard process) share the same 2 cores. " +
        "Each batch carries every fix stored since the previous one (the newest per device as `position`, " +
        "earlier ones as a flat `trail`), so positions/s per dashboard should match positions/s acknowledged; " +
        "device updates/s counts one per changed device per batch.",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
