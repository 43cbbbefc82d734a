import { readFileSync } from "node:fs";
import { createServer } from "node:http";
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
import { TrackStore } from "./store/track-store.ts";
import { UserStore } from "./store/user-store.ts";
import { ensureFirstAdmin } from "./access/first-admin.ts";

export interface RunningLocus {
  url: string;
  port: number;
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
    registry,
    users,
    config,
    version: VERSION,
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    app,
    registry,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        db.close();
      })()),
  };
}
