import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cpuSeconds, REPO, startNode, stop, tryJson, type Json } from "../lib/proc.ts";

/** Shared plumbing of the latency, connections and dashboard scenarios. */

export type Started = Awaited<ReturnType<typeof startNode>>;

/**
 * Every child a scenario starts, so a failure or a timeout still ends all of them. Each is
 * stopped by its own pid (SIGTERM), never by name.
 */
export class Children {
  private readonly all: ChildProcess[] = [];

  /** `env` is added to the child's environment (startNode passes ours on), e.g. NODE_OPTIONS. */
  async start(script: string, args: string[], env: Record<string, string> = {}): Promise<Started> {
    const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
    Object.assign(process.env, env);
    try {
      const started = await startNode(script, args);
      this.all.push(started.child);
      return started;
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all.splice(0).map((c) => stop(c)));
  }
}

export const ADMIN_PASSWORD = "bench-admin-password";

/**
 * Locus as `npm start` runs it, on a fresh database, with what would refuse a load test out of
 * the way: rate limits, the per-address connection cap (every simulated device shares
 * 127.0.0.1) and device tokens. The admin password goes by environment, which a server
 * without accounts ignores, while an unknown flag would stop it.
 */
export function startLocus(children: Children, db: string, env: Record<string, string> = {}) {
  // BENCH_CPU_PROF_DIR: every scenario's Locus writes a CPU profile there when it exits
  // (summarise one with `node --import tsx bench/lib/profile-summary.ts FILE`).
  const profile: Record<string, string> = process.env.BENCH_CPU_PROF_DIR
    ? { NODE_OPTIONS: `--import ${join(REPO, "bench/loadgen/cpu-profile.mjs")}` }
    : {};
  const limits = ["--rate-limit", "1000000", "--rate-burst", "1000000"];
  const open = ["--open-registration", "--max-connections-per-ip", "0"];
  return children.start(
    "server/main.ts",
    ["--port", "0", "--host", "127.0.0.1", "--db", db, ...limits, ...open],
    { LOCUS_ADMIN_PASSWORD: ADMIN_PASSWORD, ...profile, ...env },
  );
}

/**
 * Dashboards must sign in: the session cookie of the first admin, or undefined from a Locus
 * without accounts. (Not for the bare relay, which answers no HTTP at all.)
 */
export async function sessionCookie(url: string): Promise<string | undefined> {
  const reply = await fetch(`${url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
    signal: AbortSignal.timeout(10_000),
  });
  if (reply.status === 404) return undefined;
  const cookie = reply.headers.get("set-cookie")?.split(";")[0];
  if (!reply.ok || !cookie) throw new Error(`sign-in failed: HTTP ${reply.status}`);
  return cookie;
}

export const urlOf = (s: Started) => String(s.ready.url).replace("localhost", "127.0.0.1");

/** The next JSON line a started process prints. */
export async function nextJson(s: Started): Promise<Json> {
  const it = s.lines[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) throw new Error("process exited before printing a result");
    const parsed = tryJson(next.value);
    if (parsed) return parsed;
  }
}

/** Start every load generator's window at the same instant, a moment from now. */
export function go(procs: Started[], inMs = 200): number {
  const at = Date.now() + inMs;
  for (const p of procs) p.child.stdin!.write(`go ${at}\n`);
  return at;
}

/** CPU seconds the whole machine has been busy (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...f] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = f.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/** Every process below `pid` (Chromium's renderer, GPU and utility processes, say). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

const cpuOf = (pids: number[]) =>
  pids.reduce((sum, pid) => {
    try {
      return sum + cpuSeconds(pid);
    } catch {
      return sum; // exited meanwhile
    }
  }, 0);

/**
 * CPU % of one core used by each group of processes over `ms`, and by everything else on the
 * machine ("others"): this box is shared, and a busy neighbour shows up in every latency.
 */
export async function measureCpu<K extends string>(
  groups: Record<K, number[]>,
  ms: number,
): Promise<Record<K | "others", number>> {
  const keys = Object.keys(groups) as K[];
  const before = keys.map((k) => cpuOf(groups[k]));
  const machineBefore = machineBusySeconds();
  const t0 = performance.now();
  await sleep(ms);
  const seconds = (performance.now() - t0) / 1000;
  const result = {} as Record<K | "others", number>;
  let ours = 0;
  keys.forEach((k, i) => {
    const used = cpuOf(groups[k]) - before[i]!;
    ours += used;
    result[k] = Math.round((used / seconds) * 100);
  });
  const others = machineBusySeconds() - machineBefore - ours;
  result.others = Math.max(0, Math.round((others / seconds) * 100));
  return result;
}

/** CPU seconds of every process on the machine, by pid, with its name. */
function allProcesses(): Map<number, { name: string; cpu: number }> {
  const out = new Map<number, { name: string; cpu: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.set(Number(entry), { name, cpu: cpuSeconds(Number(entry)) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * Wait (up to `maxMs`) until the rest of the machine is nearly idle, since other work on these
 * two cores would be measured as Locus latency. Returns the others' CPU % when we went ahead.
 */
export async function waitForQuiet(ours: number[] = [], maxMs = 120_000): Promise<number> {
  const until = Date.now() + maxMs;
  for (;;) {
    const before = allProcesses();
    const { others } = await measureCpu({ ours }, 2000);
    if (others <= 15 || Date.now() > until) return others;
    const busiest = [...allProcesses()]
      .filter(([pid]) => !ours.includes(pid))
      .map(([pid, p]) => ({ ...p, pid, used: p.cpu - (before.get(pid)?.cpu ?? p.cpu) }))
      .sort((a, b) => b.used - a.used)
      .slice(0, 3)
      .map((p) => `${p.name} ${p.pid} ${Math.round(p.used * 50)}%`);
    console.log(
      `  waiting for a quieter machine (others use ${others}% CPU: ${busiest.join(", ")})…`,
    );
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reject if `work` takes longer than `ms`: a stuck run must end, and end its children. */
export async function bounded<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
