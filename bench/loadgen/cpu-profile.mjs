import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

/**
 * `NODE_OPTIONS=--import …/cpu-profile.mjs`: the equivalent of `node --cpu-prof`, which Node 20
 * refuses in NODE_OPTIONS (and bench/lib/proc.ts starts every child with fixed node flags).
 * Plain JS because it is loaded before tsx. Writes the profile on a clean exit, plus the times
 * a 10 ms timer fired over 300 ms (BENCH_STALL_MS) late: a stall of the server's timers (live ticks, commit
 * delays). Their `endUs` is on the profile's clock, so the samples of a stall can be picked out.
 */
const dir = process.env.BENCH_CPU_PROF_DIR ?? ".";
const stallMs = Number(process.env.BENCH_STALL_MS ?? 300);
const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 500 });
session.post("Profiler.start");

const stalls = [];
let last = process.hrtime.bigint();
setInterval(() => {
  const now = process.hrtime.bigint();
  const lateMs = Number(now - last) / 1e6;
  if (lateMs > stallMs) stalls.push({ endUs: Number(now / 1000n), gapMs: Math.round(lateMs) });
  last = now;
}, 10).unref();

process.on("exit", () => {
  // The in-process inspector answers synchronously, so this completes before the exit.
  session.post("Profiler.stop", (err, result) => {
    if (err) return;
    writeFileSync(join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    writeFileSync(join(dir, `server-${process.pid}.stalls.json`), JSON.stringify(stalls));
  });
});
