import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { deviceIdFor, startFleet } from "../../simulator/fleet.ts";
import { addDevicesWithCli } from "../support/locus.ts";
import { freePort, spawnServer } from "../support/server-process.ts";

/**
 * Nothing acknowledged is lost, nothing is stored twice: 200 simulated devices stream at 2 Hz while
 * the server is SIGKILLed twice at random moments and restarted, and random devices lose their link.
 * The simulator logs every position it generates; at the end the database must hold exactly those.
 */
const VEHICLES = 200;
const INTERVAL_MS = 500;
const RUN_MS = 24_000;

const dir = mkdtempSync(join(tmpdir(), "locus-chaos-"));
const dbPath = join(dir, "locus.db");
const logPath = join(dir, "generated.jsonl");
let server: ChildProcess | null = null;
afterAll(() => {
  server?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

describe("chaos", () => {
  it("stores every generated position exactly once through two SIGKILLs and random link drops", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // Devices are provisioned the way an admin would, so tokens are checked on every reconnect.
    const ids = Array.from({ length: VEHICLES }, (_, i) => deviceIdFor("sim-", i + 1));
    const tokens = await addDevicesWithCli(dbPath, ids);
    server = await spawnServer({ port, db: dbPath });

    const log = createWriteStream(logPath);
    const fleet = startFleet({
      url,
      vehicles: VEHICLES,
      intervalMs: INTERVAL_MS,
      seed: Math.floor(Math.random() * 1e9),
      flushTimeoutMs: 60_000,
      token: (id) => tokens[id],
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      onFix: (deviceId, fix) => log.write(`${JSON.stringify({ deviceId, ts: fix.ts })}\n`),
    });
    const drops = setInterval(() => {
      for (let k = 0; k < 3; k++) fleet.interrupt(Math.floor(Math.random() * VEHICLES));
    }, 500);

    const started = Date.now();
    const kills: number[] = [];
    for (const [from, to] of [
      [3_000, 9_000],
      [12_000, 18_000],
    ] as const) {
      await sleep(Math.max(0, started + between(from, to) - Date.now()));
      server.kill("SIGKILL");
      await new Promise((resolve) => server!.once("exit", resolve));
      kills.push(Date.now() - started);
      await sleep(between(300, 1500));
      server = await spawnServer({ port, db: dbPath });
    }
    await sleep(Math.max(0, started + RUN_MS - Date.now()));
    clearInterval(drops);
    const summary = await fleet.stop();
    await new Promise((resolve) => log.end(resolve));
    server.kill("SIGTERM");
    await new Promise((resolve) => server!.once("exit", resolve));
    server = null;

    const generated = readFileSync(logPath, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { deviceId: string; ts: number });
    const expected = new Set(generated.map((g) => `${g.deviceId}|${g.ts}`));
    const db = new Database(dbPath, { readonly: true });
    const rows = db
      .prepare(
        "SELECT d.uid AS deviceId, p.ts AS ts FROM positions p JOIN devices d ON d.id = p.device",
      )
      .all() as { deviceId: string; ts: number }[];
    const integrity = db.pragma("integrity_check", { simple: true });
    db.close();
    const stored = new Set(rows.map((r) => `${r.deviceId}|${r.ts}`));
    const missing = [...expected].filter((k) => !stored.has(k));
    const extra = [...stored].filter((k) => !expected.has(k));

    console.log(
      [
        `chaos: server SIGKILLed at ${kills.map((k) => `${(k / 1000).toFixed(1)} s`).join(" and ")}`,
        `  generated            ${generated.length}`,
        `  stored               ${rows.length}`,
        `  duplicates absorbed  ${summary.duplicates}`,
        `  resent / errors      ${summary.sent - summary.pushed} / ${summary.errors}`,
        `  max wait push→ack    ${summary.maxWaitMs} ms`,
        `  integrity_check      ${integrity}`,
      ].join("\n"),
    );
    expect(kills).toHaveLength(2);
    expect(summary.flushed).toBe(true);
    expect(summary.dropped).toBe(0);
    expect(summary.rejected).toBe(0);
    expect(expected.size).toBe(generated.length);
    expect(missing).toEqual([]);
    expect(extra).toEqual([]);
    expect(rows.length).toBe(generated.length);
    expect(integrity).toBe("ok");
    // The kills must actually have cost something: acks lost in flight come back as duplicates.
    expect(summary.sent).toBeGreaterThan(summary.pushed);
  });
});
