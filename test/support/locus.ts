import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach } from "vitest";
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import {
  TRAIL_STRIDE,
  type DeviceClientToServer,
  type DeviceServerToClient,
  type LiveBatch,
  type LiveClientToServer,
  type LiveServerToClient,
  type LiveSnapshot,
  type Position,
  type ReportAck,
} from "../../protocol/index.ts";
import type { Clock } from "../../server/clock.ts";
import { loadConfig, type Config } from "../../server/config.ts";
import { silentLogger } from "../../server/logger.ts";
import { startLocus, type RunningLocus } from "../../server/start.ts";
import { createTestDatabase } from "./test-db.ts";

export { storedFixes, storedRows, type StoredFix } from "./test-db.ts";

export const TEST_ADMIN_PASSWORD = "test-admin-pass";

export interface TestLocus {
  url: string;
  /** The SQLite file or PostgreSQL URL it stores in (see test-db.ts). */
  db: string;
  /** Session cookie of the first-run `admin`, signed in at start. */
  adminCookie: string;
  /** fetch() against this server as the admin (pass `cookie: ""` in headers to go anonymous). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  locus: RunningLocus;
  /** Stop the server, keeping the database file (for restart tests). */
  stop(): Promise<void>;
  /** Stop the server and delete its temp folder. */
  dispose(): Promise<void>;
}

/**
 * A real Locus on port 0 with a real database of its own: a SQLite file in a fresh temp folder, or
 * a fresh PostgreSQL database when the tests run on PostgreSQL. `db` reopens an existing one.
 */
export async function startTestLocus(
  overrides: Partial<Config> = {},
  options: { clock?: Clock; db?: string } = {},
): Promise<TestLocus> {
  const fresh = options.db ? null : await createTestDatabase();
  const db = options.db ?? fresh!.db;
  const config = loadConfig(
    [],
    {},
    {
      port: 0,
      host: "127.0.0.1",
      db,
      logLevel: "silent",
      // Most tests are about ingest, not identity; the access-control tests turn this off.
      openRegistration: true,
      adminPassword: TEST_ADMIN_PASSWORD,
      ...overrides,
    },
  );
  const locus = await startLocus(config, { logger: silentLogger, clock: options.clock });
  const url = `http://127.0.0.1:${locus.port}`;
  const adminCookie = await signIn(url, "admin", TEST_ADMIN_PASSWORD);
  return {
    url,
    db,
    adminCookie,
    fetch: (path, init = {}) =>
      fetch(`${url}${path}`, { ...init, headers: { cookie: adminCookie, ...init.headers } }),
    locus,
    stop: () => locus.close(),
    async dispose() {
      await locus.close();
      await fresh?.drop();
    },
  };
}

/** Sign in through the API as a browser would; returns the `name=value` session cookie. */
/** `POST /api/session` as the sign-in form sends it. */
export function postLogin(url: string, username: string, password: string): Promise<Response> {
  return fetch(`${url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
}

export async function signIn(url: string, username: string, password: string): Promise<string> {
  const res = await postLogin(url, username, password);
  if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status}`);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

export type DeviceSocket = Socket<DeviceServerToClient, DeviceClientToServer>;
export type DashboardSocket = Socket<LiveServerToClient, LiveClientToServer>;

const clientOptions: Partial<ManagerOptions & SocketOptions> = {
  transports: ["websocket"],
  forceNew: true,
  reconnectionDelay: 50,
};

export async function connectDevice(
  url: string,
  deviceId: string,
  token?: string,
): Promise<DeviceSocket> {
  const socket: DeviceSocket = io(`${url}/device`, { ...clientOptions, auth: { deviceId, token } });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => {
      socket.close(); // a refused helper connection must not keep retrying in the background
      reject(err);
    });
  });
  return socket;
}

export function report(socket: DeviceSocket, payload: unknown): Promise<ReportAck> {
  return socket.timeout(5000).emitWithAck("position:report", payload as Position);
}

/** A dashboard client that records everything it receives. */
export class Dashboard {
  readonly snapshots: LiveSnapshot[] = [];
  readonly batches: { at: number; batch: LiveBatch }[] = [];
  readonly socket: DashboardSocket;

  /** A signed-in dashboard: the session cookie rides on the handshake, as in a browser. */
  constructor(url: string, cookie: string) {
    this.socket = io(`${url}/live`, { ...clientOptions, extraHeaders: { cookie } });
    this.socket.on("fleet:snapshot", (s) => this.snapshots.push(s));
    this.socket.on("fleet:updated", (batch) => this.batches.push({ at: Date.now(), batch }));
  }

  /** Latest fix per device as this dashboard would show it (snapshot, then batches in order). */
  latest(deviceId: string): Position | null | undefined {
    for (let i = this.batches.length - 1; i >= 0; i--) {
      const d = this.batches[i]!.batch.devices.find((x) => x.id === deviceId);
      if (d) return d.position;
    }
    return this.snapshots.at(-1)?.devices.find((x) => x.id === deviceId)?.position;
  }

  /** Fix times of a device in the order the batches delivered them, trails included. */
  deliveredTimes(deviceId: string): number[] {
    const times: number[] = [];
    for (const { batch } of this.batches) {
      const d = batch.devices.find((x) => x.id === deviceId);
      if (!d?.position) continue;
      const trail = d.trail ?? [];
      for (let i = 0; i < trail.length; i += TRAIL_STRIDE) times.push(trail[i]!);
      times.push(d.position.ts);
    }
    return times;
  }

  close(): void {
    this.socket.close();
  }
}

export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 5000, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// An hour ago, whole seconds: well inside the server's accepted window.
let tsCounter = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** A valid position; each call gets a fresh `ts` unless one is given. */
export function makePosition(overrides: Partial<Position> = {}): Position {
  tsCounter += 1000;
  return { ts: tsCounter, lat: 52.52, lon: 13.405, speed: 8, course: 90, ...overrides };
}

/**
 * Per-test server and clients with automatic cleanup: `const bed = useTestBed()` at the top of a
 * test file, then `await bed.start()`, `await bed.device("id")`, `bed.dashboard()` in each test.
 */
export function useTestBed() {
  let current: TestLocus | undefined;
  const closers: { close(): void }[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c.close();
    await current?.dispose();
    current = undefined;
  });
  const bed = {
    async start(overrides: Partial<Config> = {}, options: { clock?: Clock } = {}) {
      await current?.dispose();
      current = await startTestLocus(overrides, options);
      return current;
    },
    get server(): TestLocus {
      if (!current) throw new Error("call bed.start() first");
      return current;
    },
    track<T extends { close(): void }>(closable: T): T {
      closers.push(closable);
      return closable;
    },
    async device(deviceId: string, token?: string): Promise<DeviceSocket> {
      return bed.track(await connectDevice(bed.server.url, deviceId, token));
    },
    dashboard(): Dashboard {
      return bed.track(new Dashboard(bed.server.url, bed.server.adminCookie));
    },
  };
  return bed;
}

/** `npm run locus -- …` against a server's database, as an admin runs it; returns stdout. */
export async function runCli(db: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    "--import",
    "tsx",
    "server/transports/cli/locus.ts",
    ...args,
    "--db",
    db,
  ]);
  return stdout;
}

/** `npm run locus -- device add … --json` as an admin runs it; returns device id → token. */
export async function addDevicesWithCli(
  db: string,
  ids: string[],
): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    "--import",
    "tsx",
    "server/transports/cli/locus.ts",
    "device",
    "add",
    ...ids,
    "--json",
    "--db",
    db,
  ]);
  return JSON.parse(stdout) as Record<string, string>;
}
