import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rssMb } from "../lib/proc.ts";
import type { ScenarioResult } from "../lib/report.ts";
import {
  bounded,
  Children,
  go,
  nextJson,
  sleep,
  startLocus,
  urlOf,
  waitForQuiet,
  type Started,
} from "./common.ts";

const SIZES = (process.env.BENCH_CONN_SIZES ?? "1000,5000,10000").split(",").map(Number);
/** Handshakes in flight per load generator process (see connectAll). */
const CONCURRENCY = Number(process.env.BENCH_CONN_CONCURRENCY ?? 100);
/** socket.io-client costs ~50 KB and real CPU per socket: spread big fleets over processes. */
const PROCS_PER_5000 = 1;
/** Long enough for the allocations of the connect burst to be collected or kept for good. */
const SETTLE_MS = 5000;

interface Sample {
  connectS: number;
  perDeviceKb: number;
  beforeMb: number;
  afterMb: number;
  problems: number;
}

async function sample(children: Children, server: Started, n: number): Promise<Sample> {
  const url = urlOf(server);
  const pid = server.child.pid!;
  const procs = Math.max(1, Math.ceil(n / 5000) * PROCS_PER_5000);
  const gens = await Promise.all(
    Array.from({ length: procs }, (_, p) =>
      children.start("bench/loadgen/idle-devices.ts", [
        ...["--url", url, "--devices", String(Math.ceil(n / procs))],
        ...["--concurrency", String(CONCURRENCY), "--prefix", `idle${p}-`],
      ]),
    ),
  );
  await waitForQuiet([pid, ...gens.map((g) => g.child.pid!)], 60_000);
  const beforeMb = rssMb(pid);
  const at = go(gens, 50);
  const done = await Promise.all(gens.map(nextJson));
  const connectS = (Math.max(...done.map((d) => d.endedAt)) - at) / 1000;
  const connected = done.reduce((s, d) => s + d.connected, 0);
  await sleep(SETTLE_MS);
  const afterMb = rssMb(pid);
  const stopped = await Promise.all(gens.map(async (g) => (g.child.kill(), nextJson(g))));
  return {
    connectS,
    beforeMb,
    afterMb,
    perDeviceKb: ((afterMb - beforeMb) * 1024) / connected,
    problems:
      Math.max(0, n - connected) +
      done.reduce((s, d) => s + d.connectErrors, 0) +
      stopped.reduce((s, d) => s + d.disconnects, 0),
  };
}

export async function connections(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
  const children = new Children();
  const figures: Record<string, number | string> = {};
  const baseline: Record<string, number | string> = {};
  const results: Record<string, Sample>[] = [];
  try {
    for (const n of SIZES) {
      const runs: Record<string, Sample> = {};
      for (const which of ["bare relay", "Locus"] as const) {
        console.log(`  ${n} idle devices against ${which}…`);
        const server =
          which === "Locus"
            ? await startLocus(children, join(dir, `c${n}.db`))
            : await children.start("bench/bare-relay.ts", []);
        await sleep(2000); // let start-up garbage go before the "before" reading
        runs[which] = await bounded(`${n} against ${which}`, 180_000, sample(children, server, n));
        await children.stopAll();
      }
      results.push(runs);
      for (const [into, r] of [
        [figures, runs["Locus"]!],
        [baseline, runs["bare relay"]!],
      ] as const) {
        const label = `${n.toLocaleString("en")} idle devices`;
        into[`${label}: server RSS per device KB`] = Number(r.perDeviceKb.toFixed(1));
        into[`${label}: RSS before → after MB`] =
          `${Math.round(r.beforeMb)} → ${Math.round(r.afterMb)}`;
        into[`${label}: time to connect all s`] = Number(r.connectS.toFixed(1));
        into[`${label}: refused + connect errors + disconnects`] = r.problems;
      }
    }
  } finally {
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const largest = results.at(-1)!;
  const n = SIZES.at(-1)!;
  const kb = largest["Locus"]!.perDeviceKb;
  const secs = largest["Locus"]!.connectS;
  figures[`targets at ${n}: ≤ 30 KB per idle device, connect in < 20 s`] =
    `${kb <= 30 ? "met" : "MISSED"}, ${secs < 20 ? "met" : "MISSED"}`;
  return {
    scenario: `connections (idle devices, ${CONCURRENCY} handshakes in flight per load generator)`,
    figures,
    baseline,
    ratio: kb / largest["bare relay"]!.perDeviceKb,
    notes:
      "Server RSS after all devices connected and a 5 s settle, minus RSS before, divided by the devices " +
      "connected; each size on a fresh server. Devices are real socket.io-client sockets (websocket " +
      `transport, one Manager each) in ${PROCS_PER_5000} load generator process per 5,000, ` +
      `at most ${CONCURRENCY} handshakes in flight per process; connect time runs from the start signal to ` +
      "the last connect event. Server and load generators share the same 2 cores. Baseline: the same " +
      "against bench/bare-relay.ts. Ratio: KB per device at the largest size, Locus / bare relay.",
  };
}
