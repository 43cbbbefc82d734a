import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../server/main.ts", import.meta.url));

/** A port free on loopback now, for a server that must keep its address across restarts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * `server/main.ts` in its own process (so it can be SIGKILLed, or its heap capped), resolved once
 * /api/health answers. Its stderr is inherited unless `stderr: "pipe"`.
 */
export async function spawnServer(options: {
  port: number;
  db: string;
  nodeArgs?: string[];
  env?: Record<string, string>;
  stderr?: "inherit" | "pipe";
  /** Working directory; elsewhere than the checkout, tsx and the server are named by path. */
  cwd?: string;
  /** More server flags. */
  args?: string[];
}): Promise<ChildProcess> {
  const { port, db, nodeArgs = [], env = {}, stderr = "inherit", cwd, args = [] } = options;
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      ...["--import", cwd ? import.meta.resolve("tsx") : "tsx", cwd ? MAIN : "server/main.ts"],
      ...["--port", String(port), "--host", "127.0.0.1", "--db", db, "--log-level", "warn"],
      ...args,
    ],
    { stdio: ["ignore", "ignore", stderr], env: { ...process.env, ...env }, cwd },
  );
  let exitCode: number | null | undefined;
  child.once("exit", (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
  for (let i = 0; i < 400 && exitCode === undefined; i++) {
    // A server that accepts but never answers must not hold the caller forever.
    const up = await fetch(`http://127.0.0.1:${port}/api/health`, {
      signal: AbortSignal.timeout(2000),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(
    exitCode === undefined
      ? `server on port ${port} did not come up`
      : `server on port ${port} exited (${exitCode}) before it came up`,
  );
}
