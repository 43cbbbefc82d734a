import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp, type LocusApp } from "./app.ts";
import { ensureDashboardBuilt } from "./build-dashboard.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import { REPO_ROOT } from "./paths.ts";
import { openDatabase } from "./store/database.ts";
import { DeviceRegistry } from "./store/device-registry.ts";
import { PositionStore } from "./store/position-store.ts";
import { inlineWriter, WorkerWriter } from "./store/position-writer.ts";
import { TrackStore } from "./store/track-store.ts";
import { UserStore } from "./store/user-store.ts";
import { ensureFirstAdmin } from "./access/first-admin.ts";

export interface RunningLocus {
  url: string;
  port: number;
  /** The dedicated OsmAnd port, when `--osmand-port` is on. */
  osmandPort: number | null;
  app: LocusApp;
  /** Device tokens, for the demo to provision its own simulated fleet. */
  registry: DeviceRegistry;
  close(): Promise<void>;
}

const VERSION = (
  JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, "utf8")) as { version: string }
).version;

/**
 * The composition root: chooses the concrete store, clock and authenticator, builds the app and
 * listens. `main.ts`, the demo, `npm run dev` and the integration tests all start Locus here.
 */
export async function startLocus(
  config: Readonly<Config>,
  options: { logger: Logger; clock?: Clock; distDir?: string },
): Promise<RunningLocus> {
  const { logger } = options;
  if (config.buildIfStale) await ensureDashboardBuilt(logger);

  const db = openDatabase(config.db, config.durability);
  const store = new PositionStore(db);
  const registry = new DeviceRegistry(db);
  const users = new UserStore(db);
  await ensureFirstAdmin(users, config.adminPassword, logger);
  const httpServer = createServer();
  const app = createApp(httpServer, {
    ...options,
    store,
    tracks: new TrackStore(db, store.trackMarks),
    writer:
      config.db === ":memory:"
        ? inlineWriter(store)
        : new WorkerWriter({ file: config.db, durability: config.durability }, store, logger),
    registry,
    users,
    config,
    version: VERSION,
  });

  const port = await listen(httpServer, config.port, config.host);
  // Phone apps set up for Traccar send to their own port (5055) at any path.
  let osmandServer: Server | null = null;
  let osmandPort: number | null = null;
  if (config.osmandPort >= 0) {
    osmandServer = createServer(app.osmandListener);
    try {
      osmandPort = await listen(osmandServer, config.osmandPort, config.host);
    } catch (err) {
      await app.close();
      db.close();
      throw err;
    }
    logger.info({ port: osmandPort }, "OsmAnd protocol listening");
  }
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    osmandPort,
    app,
    registry,
    close: () =>
      (closing ??= (async () => {
        const osmandClosed = osmandServer ? closeServer(osmandServer) : Promise.resolve();
        await app.close();
        await osmandClosed;
        db.close();
      })()),
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Stop accepting, and end idle keep-alive connections so close() does not wait on them. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
