import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openDatabase, WAL_AUTOCHECKPOINT_PAGES } from "../../server/stores/sqlite/database.ts";
import { cpuSeconds, lastJson, rssMb, startNode } from "../lib/proc.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { Children, sessionCookie, startLocus, urlOf } from "./common.ts";

export const DEVICES = Number(process.env.BENCH_DEVICES ?? 2000);
export const DASHBOARDS = 10;
export const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const WARMUP_MS = 2000;
/**
 * Windows per side. On this shared box one window of either side varies by ±20 %, so the relay and
 * Locus take turns (relay first in odd rounds, Locus first in even ones, so a drift of the machine
 * favours neither) and the headline is the median of the rounds' ratios.
 */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Raw better-sqlite3: the same rows (DEVICES interleaved) in batches of 1,000, same schema. */
function sqliteBaseline(dir: string): number {
  const file = join(dir, "baseline.db");
  openDatabase(file).close(); // same schema and pragmas as Locus
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
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
export async function drive(
  url: string,
  serverPid: number,
  locus?: { cookie: string | undefined },
) {
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

export type Run = Awaited<ReturnType<typeof drive>>;

const pct = (x: number) => `${Math.round(x * 100)} %`;
export const cpuFigures = (c: { server: number; deviceGen: number; dashboardGen: number }) =>
  [c.server, c.deviceGen, c.dashboardGen].map(Math.round).join(" / ");
export const ackedRate = (run: Run) => run.deviceResult.perSecond as number;
export const each = (values: number[], format: (v: number) => string) =>
  values.map(format).join(" / ");
/** The middle element (the upper one of an even count). */
export const median = <T>(items: T[], key: (t: T) => number): T =>
  [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;

export async function ingest(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
  const children = new Children();
  try {
    const sqliteRate = sqliteBaseline(dir);

    // Both servers stay up for every round; the one not being driven is idle.
    const bare = await children.start("bench/bare-relay.ts", []);
    const locus = await startLocus(children, join(dir, "locus.db"));
    const url = urlOf(locus);
    const cookie = await sessionCookie(url);
    const driveBare = () => drive(String(bare.ready.url), bare.child.pid!);
    const driveLocus = () => drive(url, locus.child.pid!, { cookie });
    const rounds: { bare: Run; locus: Run; ratio: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let bareRun: Run, locusRun: Run;
      if (r % 2 === 0) {
        bareRun = await driveBare();
        locusRun = await driveLocus();
      } else {
        locusRun = await driveLocus();
        bareRun = await driveBare();
      }
      rounds.push({
        bare: bareRun,
        locus: locusRun,
        ratio: ackedRate(locusRun) / ackedRate(bareRun),
      });
    }

    // Figures of single runs come from the round whose Locus rate is the median one.
    const mid = median(rounds, (r) => ackedRate(r.locus));
    const locusRun = mid.locus;
    const acked = ackedRate(locusRun);
    const shares = rounds.map(
      (r) => r.locus.dashboardResult.fixesPerDashboardPerSecond / ackedRate(r.locus),
    );
    const rate = (v: number) => Math.round(v).toLocaleString("en");
    return {
      scenario: `ingest (${DEVICES} devices, batches of ${BATCH}, ${DASHBOARDS} dashboards, ${ROUNDS} rounds)`,
      figures: {
        "positions/s acknowledged (committed), median round": Math.round(acked),
        "positions/s acknowledged, each round": each(
          rounds.map((r) => ackedRate(r.locus)),
          rate,
        ),
        "positions/s received per dashboard": Math.round(
          locusRun.dashboardResult.fixesPerDashboardPerSecond,
        ),
        "share of acknowledged positions each dashboard received, each round": each(shares, pct),
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
        "errors, all rounds": rounds.reduce(
          (n, r) => n + (r.locus.deviceResult.errors as number),
          0,
        ),
        "ratio to the relay, each round": each(
          rounds.map((r) => r.ratio),
          (x) => x.toFixed(2),
        ),
      },
      baseline: {
        "bare socket.io relay positions/s acknowledged, same round": Math.round(
          ackedRate(mid.bare),
        ),
        "bare relay positions/s acknowledged, each round": each(
          rounds.map((r) => ackedRate(r.bare)),
          rate,
        ),
        "bare relay CPU %: server / device load / dashboard load": cpuFigures(mid.bare.cpu),
        "bare relay positions/s received per dashboard": Math.round(
          mid.bare.dashboardResult.fixesPerDashboardPerSecond,
        ),
        "raw better-sqlite3 rows/s (batches of 1,000)": Math.round(sqliteRate),
      },
      ratio: median(rounds, (r) => r.ratio).ratio,
      notes:
        "Server and load generators (one device process, one dashboard process) share the same 2 cores. " +
        "Each batch carries every fix stored since the previous one (the newest per device as `position`, " +
        "earlier ones as a flat `trail`), so positions/s per dashboard should match positions/s acknowledged; " +
        "device updates/s counts one per changed device per batch. The headline ratio is the median " +
        'of the rounds\' ratios; figures without "each round" are from the round with the median Locus rate.',
    };
  } finally {
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
