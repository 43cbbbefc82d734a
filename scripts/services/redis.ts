import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./postgres.ts";

/**
 * A throwaway redis-server for one test file or one `npm run cluster`: a free loopback port, a
 * temp folder, nothing saved to disk (so a restart comes back empty, as after a crash).
 */
export interface LocalRedis {
  url: string;
  port: number;
  /** Kill the server (SIGKILL: as a crash), keeping its port for start(). */
  halt(): Promise<void>;
  /** Start it again on the same port, empty. */
  start(): Promise<void>;
  /** Stop it answering while its connections stay open (SIGSTOP): a host gone silent. */
  freeze(): void;
  /** Let it answer again (SIGCONT). */
  thaw(): void;
  /** Kill it and remove its folder. Synchronous, so it also runs from an exit handler. */
  stop(): void;
}

/** redis-server on PATH, or where Debian puts it. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? "redis-server";

/** Resolves once the server answers PING on the port. */
async function waitForPong(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const pong = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.setTimeout(500, () => socket.destroy());
      socket.once("connect", () => socket.write("PING\r\n"));
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString().startsWith("+PONG"));
      });
      socket.once("error", () => resolve(false));
      socket.once("close", () => resolve(false));
    });
    if (pong) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<LocalRedis> {
  const dir = mkdtempSync(join(tmpdir(), "locus-redis-"));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const kill = () => {
    // By PID, whatever state the test that started it is in.
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", kill);

  const start = async () => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    child = spawn(REDIS_SERVER, [...args, "--dir", dir], { stdio: "ignore" });
    const started = child;
    await new Promise<void>((resolve, reject) => {
      started.once("spawn", resolve);
      started.once("error", reject);
    });
    await waitForPong(port, started);
  };
  const signal = (name: NodeJS.Signals) => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, name);
  };
  const halt = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    kill();
    await exited;
  };

  try {
    await start();
  } catch (err) {
    kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    halt,
    start,
    freeze: () => signal("SIGSTOP"),
    thaw: () => signal("SIGCONT"),
    stop() {
      kill();
      process.removeListener("exit", kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
