import { spawn } from "node:child_process";
import { buildStreetNetwork } from "../../simulator/streets.ts";
import { Vehicle } from "../../simulator/vehicle.ts";
import { cpuSeconds, REPO, startNode, stop } from "../lib/proc.ts";
import type { ScenarioResult } from "../lib/report.ts";

const SIZES = (process.env.BENCH_SIM_VEHICLES ?? "1000,10000").split(",").map(Number);
const WARMUP_MS = 5000;
const WINDOW_MS = 10_000;

/** Baseline: the motion model alone (no sockets), CPU seconds per simulated second per 1,000. */
function modelOnlyCpuPer1000(): number {
  const network = buildStreetNetwork({ center: { lat: 52.52, lon: 13.405 }, seed: 1 });
  const vehicles = Array.from(
    { length: 1000 },
    (_, i) => new Vehicle({ network, seed: 1, index: i + 1, startTs: 0, tickMs: 250 }),
  );
  const seconds = 300;
  const started = process.cpuUsage();
  for (let s = 0; s < seconds; s++) {
    for (const v of vehicles) {
      v.step(1000);
      v.fix(s * 1000);
    }
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1e6 / seconds;
}

/** The simulator CLI as users run it, against a bare relay so only the simulator is measured. */
async function simulatorCpu(url: string, vehicles: number) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "simulator/cli.ts",
      "--url",
      url,
      "--vehicles",
      String(vehicles),
      "--duration",
      String((WARMUP_MS + WINDOW_MS) / 1000),
    ],
    { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((r) => child.once("exit", r));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const before = cpuSeconds(child.pid!);
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const cpu = (cpuSeconds(child.pid!) - before) / (WINDOW_MS / 1000);
  await exited;
  // Its closing summary: did it keep up, i.e. were ~vehicles fixes a second acknowledged?
  const acked = Number(/^\s+acked\s+(\d+)/m.exec(output)?.[1] ?? 0);
  const seconds = Number(/summary after ([\d.]+) s/.exec(output)?.[1] ?? NaN);
  return { cpu, ackedPerSecond: acked / seconds };
}

export async function simulator(): Promise<ScenarioResult> {
  const bare = await startNode("bench/bare-relay.ts", []);
  const figures: Record<string, number | string> = {};
  let per1000 = 0;
  for (const size of SIZES) {
    const { cpu, ackedPerSecond } = await simulatorCpu(String(bare.ready.url), size);
    const label = `${size.toLocaleString("en")} vehicles at 1 Hz`;
    figures[`${label}: simulator CPU % of one core`] = Math.round(cpu * 100);
    figures[`${label}: positions acknowledged per s (whole run, incl. connecting)`] =
      Math.round(ackedPerSecond);
    figures[`${size.toLocaleString("en")} vehicles: CPU % per 1,000 vehicles`] = Math.round(
      (cpu * 100 * 1000) / size,
    );
    if (size === SIZES[0]) per1000 = (cpu * 1000) / size;
  }
  await stop(bare.child);
  const model = modelOnlyCpuPer1000();
  return {
    scenario: "simulator",
    figures,
    baseline: {
      "motion model alone: CPU % per 1,000 vehicles at 1 Hz": Number((model * 100).toFixed(2)),
    },
    ratio: per1000 / model,
    notes:
      "The simulator runs against a bare socket.io relay on the same 2 cores. The ratio shows how much the " +
      "sockets cost on top of the motion model (socket.io-client framing, acks, timers).",
  };
}
