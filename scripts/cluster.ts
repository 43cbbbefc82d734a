import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { deviceIdFor, startFleet, type Fleet } from "../simulator/fleet.ts";
import { freePort, startPostgres, type LocalPostgres } from "./services/postgres.ts";
import { startRedis, type LocalRedis } from "./services/redis.ts";

/**
 * `npm run cluster -- --nodes 3`: a throwaway PostgreSQL and Redis on free loopback ports, N
 * Locus nodes on them (`--db postgres://… --redis-url redis://…`), and the demo's simulated
 * fleet spread across the nodes, each vehicle reporting to one of them. Open any node: every
 * dashboard shows the whole fleet. Ctrl-C stops everything and deletes the data.
 */
const USAGE = `npm run cluster -- [--nodes N] [--vehicles N] [--port P]

  --nodes N      Locus nodes to start (default 3)
  --vehicles N   simulated vehicles, spread over the nodes (default 50, 0 for none)
  --port P       first node's HTTP port, the next ones follow (default 3000; 0: free ports)
`;

const MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));
/** The first start may build the dashboard (vite build) before it answers. */
const FIRST_START_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 60_000;

function options() {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: "3" },
      vehicles: { type: "string", default: "50" },
      port: { type: "string", default: "3000" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const whole = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= min) return n;
    console.error(`cluster: --${name} must be a whole number ≥ ${min}\n\n${USAGE}`);
    process.exit(2);
  };
  return {
    nodes: whole("nodes", values.nodes, 1),
    vehicles: whole("vehicles", values.vehicles, 0),
    port: whole("port", values.port, 0),
  };
}

/** One Locus node in its own process; resolves once /api/health answers. */
async function startNode(
  port: number,
  settings: { db: string; redisUrl: string; adminPassword: string; buildIfStale: boolean },
): Promise<ChildProcess> {
  const args = ["--import", "tsx", MAIN, "--port", String(port), "--host", "127.0.0.1"];
  args.push("--db", settings.db, "--redis-url", settings.redisUrl, "--log-level", "warn");
  if (settings.buildIfStale) args.push("--build-if-stale");
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "inherit", "inherit"],
    // The variable, not the flag: flags show in `ps`. Only the first node creates the admin.
    env: { ...process.env, LOCUS_ADMIN_PASSWORD: settings.adminPassword },
  });
  const deadline = Date.now() + (settings.buildIfStale ? FIRST_START_TIMEOUT_MS : START_TIMEOUT_MS);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the node on port ${port} exited at start`);
    const up = await fetch(`http://127.0.0.1:${port}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGKILL");
  throw new Error(`the node on port ${port} did not come up`);
}

/** Register the simulated devices through the admin API; returns their tokens. */
async function registerDevices(url: string, password: string, ids: string[]) {
  const session = await fetch(`${url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });
  if (!session.ok) throw new Error(`signing in as admin failed: ${session.status}`);
  const cookie = session.headers.get("set-cookie")!.split(";")[0]!;
  const tokens = new Map<string, string>();
  for (const deviceId of ids) {
    const res = await fetch(`${url}/api/admin/devices`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ deviceId }),
    });
    if (!res.ok) throw new Error(`registering ${deviceId} failed: ${res.status}`);
    tokens.set(deviceId, ((await res.json()) as { token: string }).token);
  }
  return tokens;
}

const { nodes: nodeCount, vehicles, port: firstPort } = options();
let postgres: LocalPostgres | null = null;
let redis: LocalRedis | null = null;
const nodes: ChildProcess[] = [];
const fleets: Fleet[] = [];

async function stopAll(): Promise<void> {
  await Promise.all(fleets.map((f) => f.stop().catch(() => {})));
  await Promise.all(
    nodes.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
        }),
    ),
  );
  redis?.stop();
  postgres?.stop();
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log("\ncluster: stopping the nodes, Redis and PostgreSQL…");
    void stopAll().then(() => process.exit(0));
  });
}

try {
  console.log("cluster: starting a throwaway PostgreSQL and Redis…");
  postgres = await startPostgres();
  redis = await startRedis();
  const adminPassword = randomBytes(12).toString("base64url");
  const urls: string[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const port = firstPort === 0 ? await freePort() : firstPort + i;
    const settings = { db: postgres.url, redisUrl: redis.url, adminPassword };
    // One at a time: the first migrates the database, creates the admin and builds the dashboard.
    nodes.push(await startNode(port, { ...settings, buildIfStale: i === 0 }));
    urls.push(`http://127.0.0.1:${port}`);
  }

  // Vehicle k reports to node k mod N, each node's share driven by its own seeded fleet.
  for (let i = 0; i < nodeCount && vehicles > 0; i++) {
    const share = Math.floor(vehicles / nodeCount) + (i < vehicles % nodeCount ? 1 : 0);
    if (share === 0) continue;
    const prefix = `n${i + 1}-sim-`;
    const ids = Array.from({ length: share }, (_, k) => deviceIdFor(prefix, k + 1));
    const tokens = await registerDevices(urls[0]!, adminPassword, ids);
    fleets.push(
      startFleet({
        url: urls[i]!,
        vehicles: share,
        prefix,
        seed: i + 1,
        token: (id) => tokens.get(id),
      }),
    );
  }

  console.log(`
  Locus cluster: ${nodeCount} node${nodeCount === 1 ? "" : "s"}, ${vehicles} simulated vehicles
${urls.map((url, i) => `    node ${i + 1}: ${url}`).join("\n")}
    PostgreSQL: ${postgres.url}
    Redis:      ${redis.url}

  Sign in as "admin" with password ${adminPassword}
  Ctrl-C stops everything and deletes the data.
`);
} catch (err) {
  console.error(`cluster: ${(err as Error).message}`);
  await stopAll();
  process.exit(1);
}
