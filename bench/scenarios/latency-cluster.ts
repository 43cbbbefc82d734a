import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "../../scripts/services/postgres.ts";
import { startRedis } from "../../scripts/services/redis.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { bounded, Children, sessionCookie, startLocus, urlOf } from "./common.ts";
import { drive, put, type Run } from "./latency.ts";

const DEVICES = Number(process.env.BENCH_CLUSTER_DEVICES ?? 5000);
const HZ = Number(process.env.BENCH_CLUSTER_HZ ?? 1);

/**
 * `npm run bench -- latency --nodes 2`: devices on node A, the 50 dashboards on node B, both on one
 * PostgreSQL and joined by Redis, so every fix crosses from one node to the other. Baseline: the
 * same load on one Locus over SQLite (devices and dashboards on the same process), in the same run.
 */
export async function latencyCluster(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
  const children = new Children();
  const postgres = await startPostgres({ durable: true });
  const redis = await startRedis();
  const label = `${DEVICES.toLocaleString("en")} devices @ ${HZ} Hz`;
  const runs: Record<"one node" | "two nodes", Run> = {} as never;
  try {
    console.log(`  ${label} on one node (SQLite)…`);
    const single = await startLocus(children, join(dir, "single.db"));
    runs["one node"] = await bounded(
      "one node",
      400_000,
      drive(
        children,
        { devicesTo: single, dashboardsTo: single, servers: [single] },
        await sessionCookie(urlOf(single)),
        DEVICES,
        HZ,
      ),
    );
    await children.stopAll();

    console.log(`  ${label}: devices on node A, dashboards on node B (PostgreSQL + Redis)…`);
    const cluster = { LOCUS_REDIS_URL: redis.url };
    // One after the other: the first creates the admin both sign in with.
    const a = await startLocus(children, postgres.url, cluster);
    const b = await startLocus(children, postgres.url, cluster);
    runs["two nodes"] = await bounded(
      "two nodes",
      400_000,
      drive(
        children,
        { devicesTo: a, dashboardsTo: b, servers: [a, b] },
        await sessionCookie(urlOf(b)),
        DEVICES,
        HZ,
      ),
    );
  } finally {
    await children.stopAll();
    redis.stop();
    postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const figures: Record<string, number | string> = {};
  const baseline: Record<string, number | string> = {};
  const two = runs["two nodes"];
  put(figures, `${label}, A → B`, DEVICES, two);
  put(baseline, `${label}, one node`, DEVICES, runs["one node"]);
  const p99Dash = two.toDashboard.percentile(0.99);
  const p99Ack = two.toAck.percentile(0.99);
  figures["targets p99 device → dashboard ≤ 250 ms, ack ≤ 100 ms"] =
    `${p99Dash <= 250 ? "met" : "MISSED"}, ${p99Ack <= 100 ? "met" : "MISSED"}`;
  return {
    scenario: `latency across two nodes (devices on A, 50 dashboards on B; PostgreSQL + Redis)`,
    figures,
    baseline,
    ratio: p99Dash / runs["one node"].toDashboard.percentile(0.99),
    notes:
      "Both nodes, PostgreSQL (fsync on), Redis and the load generators share the same 2 cores; CPU % " +
      "'server' is both nodes together (PostgreSQL and Redis count as other processes). Method as in " +
      "`latency` (open-loop devices, dashboards measure Date.now() − ts per device update). Ratio: p99 " +
      "device → dashboard, two nodes / one node on SQLite.",
  };
}
