import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A throwaway PostgreSQL for one test file: initdb into a temp folder, started on a free loopback
 * port, removed by stop(). PostgreSQL refuses to run as root, so as root (CI, these machines) the
 * folder is given to the `postgres` system user and every command runs through `runuser`.
 */
export interface LocalPostgres {
  url: string;
  port: number;
  /** Stop the server (fast shutdown: what is committed stays) without removing its files. */
  halt(): void;
  /** Start it again on the same port and files. */
  start(): void;
  /** Stop it and remove its folder. */
  stop(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** initdb and pg_ctl: on PATH, or where Debian's `postgresql` package puts them. */
function pgCommand(name: string): string {
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).sort().reverse()) {
      const path = join(debian, version, "bin", name);
      if (existsSync(path)) return path;
    }
  }
  return name;
}

export async function startPostgres(options: { durable?: boolean } = {}): Promise<LocalPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "locus-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    chownSync(dir, uid, gid);
  }
  const run = (name: string, args: string[]) => {
    const command = pgCommand(name);
    return asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", command, ...args], { stdio: "pipe" })
      : execFileSync(command, args, { stdio: "pipe" });
  };
  const data = join(dir, "data");
  run("initdb", ["-D", data, "-A", "trust", "-U", "locus", "--no-sync"]);
  const port = await freePort();
  // Tests trade durability for speed; benchmarks keep PostgreSQL's defaults (fsync on).
  const fsync = options.durable ? "" : " -c fsync=off";
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${fsync}`;
  const start = () =>
    run("pg_ctl", ["-D", data, "-o", settings, "-l", join(dir, "log"), "-w", "start"]);
  const halt = () => run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  start();
  return {
    url: `postgres://locus@127.0.0.1:${port}/postgres`,
    port,
    halt,
    start,
    stop() {
      try {
        halt();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
