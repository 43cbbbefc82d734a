import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { deviceIdFor, startFleet } from "../../simulator/fleet.ts";
import { addDevicesWithCli } from "../support/locus.ts";
import { startPostgres, type LocalPostgres } from "../support/postgres.ts";
import { startRedis, type LocalRedis } from "../support/redis.ts";
import { freePort, spawnServer } from "../support/server-process.ts";
import { startTcpBalancer, type TcpBalancer } from "../support/tcp-balancer.ts";

/**
 * The chaos test on three nodes (issue #13): 200 simulated devices stream at 2 Hz through a load
 * balancer to three Locus processes on one PostgreSQL, joined by Redis, while two different nodes
 * are SIGKILLed, Redis is restarted and PostgreSQL is restarted, and random devices lose their
 * link. Devices of a killed node reconnect through the balancer to another node and resend what
 * was not acknowledged. At the end PostgreSQL must hold every generated position exactly once.
 */
const VEHICLES = 200;
const INTERVAL_MS = 500;
const RUN_MS = 30_000;
const NODES = 3;

let postgres: LocalPostgres | undefined;
let redis: LocalRedis | undefined;
let balancer: TcpBalancer | undefined;
const nodes: (ChildProcess | null)[] = [];

afterAll(async () => {
  for (const node of nodes) node?.kill("SIGKILL");
  await balancer?.close();
  redis?.stop();
  postgres?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves once the process has exited, also when it already had. */
const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", resolve));
/** A step that hangs fails with its own name instead of the whole test's timeout. */
async function within<T>(what: string, ms: number, step: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([step, late]);
  } finally {
    clearTimeout(timer);
  }
}
const between = (min: number, max: number) => min + Math.random() * (max - min);

describe("chaos on three nodes", () => {
  it("stores every generated position exactly once through two node kills, a Redis restart and a PostgreSQL restart", async () => {
    postgres = await startPostgres();
    redis = await startRedis();
    const ports = await Promise.all(Array.from({ length: NODES }, () => freePort()));
    const ids = Array.from({ length: VEHICLES }, (_, i) => deviceIdFor("sim-", i + 1));
    const tokens = await addDevicesWithCli(postgres.url, ids);
    const start = (i: number) =>
      spawnServer({ port: ports[i]!, db: postgres!.url, args: ["--redis-url", redis!.url] });
    for (let i = 0; i < NODES; i++) nodes[i] = await start(i);
    balancer = await startTcpBalancer(ports);

    const generated: string[] = [];
    const fleet = startFleet({
      url: balancer.url,
      vehicles: VEHICLES,
      intervalMs: INTERVAL_MS,
      seed: Math.floor(Math.random() * 1e9),
      flushTimeoutMs: 90_000,
      token: (id) => tokens[id],
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      onFix: (deviceId, fix) => generated.push(`${deviceId}|${fix.ts}`),
    });
    const drops = setInterval(() => {
      for (let k = 0; k < 3; k++) fleet.interrupt(Math.floor(Math.random() * VEHICLES));
    }, 500);

    const started = Date.now();
    const events: string[] = [];
    const at = async (from: number, to: number) =>
      sleep(Math.max(0, started + between(from, to) - Date.now()));
    const mark = (what: string) => {
      events.push(`${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.error(`cluster chaos: ${events.at(-1)}`); // live, so a stuck run shows where
    };
    const killNode = async (i: number) => {
      const node = nodes[i]!;
      node.kill("SIGKILL");
      await within(`node ${i} exit`, 5_000, exited(node));
      mark(`node ${i} SIGKILLed`);
      await sleep(between(500, 1500));
      nodes[i] = await within(`node ${i} restart`, 30_000, start(i));
      mark(`node ${i} back`);
    };

    await at(3_000, 6_000);
    await killNode(0);
    await at(9_000, 11_000);
    await within("Redis kill", 5_000, redis.halt());
    mark("Redis killed");
    await sleep(1000);
    await within("Redis start", 10_000, redis.start());
    mark("Redis back");
    await at(14_000, 17_000);
    await killNode(1);
    await at(20_000, 22_000);
    postgres.halt();
    mark("PostgreSQL stopped");
    await sleep(3000);
    postgres.start();
    await sleep(Math.max(0, started + RUN_MS - Date.now()));
    clearInterval(drops);
    const summary = await within("fleet flush", 100_000, fleet.stop());
    mark("fleet stopped");
    for (const node of nodes) node?.kill("SIGTERM");
    await within("nodes' shutdown", 15_000, Promise.all(nodes.map((n) => n && exited(n))));
    nodes.length = 0;

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query<{ key: string }>(
      "SELECT d.uid || '|' || p.ts AS key FROM positions p JOIN devices d ON d.id = p.device",
    );
    await client.end();
    const expected = new Set(generated);
    const stored = new Set(rows.map((r) => r.key));
    const missing = [...expected].filter((k) => !stored.has(k));
    const phantom = [...stored].filter((k) => !expected.has(k));
    console.log(
      [
        `cluster chaos: ${events.join(", ")}`,
        `  generated            ${generated.length}`,
        `  stored               ${rows.length}`,
        `  duplicates absorbed  ${summary.duplicates}`,
        `  resent / errors      ${summary.sent - summary.pushed} / ${summary.errors}`,
        `  max wait push→ack    ${summary.maxWaitMs} ms`,
      ].join("\n"),
    );
    expect(events.filter((e) => /SIGKILLed|Redis killed|PostgreSQL stopped/.test(e))).toHaveLength(
      4,
    );
    expect(summary.flushed).toBe(true);
    expect(summary.dropped).toBe(0);
    expect(summary.rejected).toBe(0);
    expect(expected.size).toBe(generated.length);
    expect(missing).toEqual([]);
    expect(phantom).toEqual([]);
    expect(rows.length).toBe(generated.length);
    // The faults must have cost something: acks lost in flight come back as duplicates.
    expect(summary.sent).toBeGreaterThan(summary.pushed);
  }, 180_000);
});
