import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** A result line from a child process: numbers and strings keyed by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- figures are read by name per scenario
export type Json = Record<string, any>;

/** Start `node --import tsx <script> ...args`; resolves once it prints a JSON line with `ready`. */
export async function startNode(
  script: string,
  args: string[],
): Promise<{ child: ChildProcess; ready: Record<string, unknown>; lines: AsyncIterable<string> }> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: REPO,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) throw new Error(`${script} exited before it was ready`);
    const parsed = tryJson(next.value);
    if (parsed && (parsed.ready || parsed.url)) {
      return { child, ready: parsed, lines: { [Symbol.asyncIterator]: () => iterator } };
    }
  }
}

export function tryJson(line: string): Json | null {
  try {
    const value = JSON.parse(line);
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}

/** Read the last JSON line a process prints before it exits. */
export async function lastJson(lines: AsyncIterable<string>): Promise<Json> {
  let last: Json | null = null;
  for await (const line of lines) last = tryJson(line) ?? last;
  if (!last) throw new Error("process printed no result");
  return last;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
