import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp, type LocusApp } from "./app.ts";
import { ensureDashboardBuilt } from "./build-dashboard.ts";
import { connectRedis } from "./cluster/redis.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { LevelBuilder } from "./history/level-builder.ts";
import type { Logger } from "./logger.ts";
import { HealthChecks } from "./observability/health.ts";
import { LocusMetrics } from "./observability/metrics.ts";
import { REPO_ROOT } from "./paths.ts";
import { createServices, gapRuleFrom, type Services } from "./services/index.ts";
import { openStores } from "./stores/open.ts";
import type { Stores } from "./stores/ports.ts";
import { RECOVERY_WINDOW_MS } from "./transports/socketio/server.ts";

export interface RunningLocus {
  url: string;
  port: number;
  /** The dedicated OsmAnd port, when `--osmand-port` is on. */
  osmandPort: number | null;
  app: LocusApp;
  /** The rules, for the demo to provision its own simulated fleet and for tests. */
  services: Services;
  stores: Stores;
  /** Keeps the level-of-detail tracks up to date in the background. */
  levels: LevelBuilder;
  /** Named checks behind /api/health and /metrics: register optional parts' own here. */
  health: HealthChecks;
  metrics: LocusMetrics;
  close(): Promise<void>;
}

/** How often fences are checked for changes another process made. */
const FENCE_REFRESH_MS = 5_000;

/** How long a shutdown waits for clients to close their links before it cuts them. */
const SHUTDOWN_GRACE_MS = 3_000;

const VERSION = (
  JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, "utf8")) as { version: string }
).version;

/**
 * The composition root: config → stores → services → transports → listen. Only here are concrete
 * implementations chosen. `main.ts`, the demo, `npm run dev` and the integration tests all start
 * Locus here.
 */
export async function startLocus(
  config: Readonly<Config>,
  options: { logger: Logger; clock?: Clock; distDir?: string },
): Promise<RunningLocus> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  if (config.buildIfStale) await ensureDashboardBuilt(logger);
  // Before anything opens: an unreachable Redis stops the start with a message naming the setting.
  const redis = config.redisUrl
    ? await connectRedis(config.redisUrl, logger, RECOVERY_WINDOW_MS)
    : null;

  const stores = await openStores(config, { logger, worker: true, now: () => clock.now() });
  const health = new HealthChecks();
  health.register("store", () => stores.health(), { critical: true });
  if (redis) health.register("redis", () => redis.health());
  const metrics = new LocusMetrics(health);
  stores.observeCommits(metrics.commits);
  const latest = await stores.positions.latest();
  const services = await createServices(stores, config, {
    clock,
    logger,
    latest,
    ingest: metrics.ingest,
  });
  await services.people.ensureFirstAdmin(config.adminPassword, logger);
  // Fixes committed before a crash but not yet through the event rules.
  await services.events.catchUp(latest);
  // Fences changed by the CLI (or on a node whose message was lost) reach the event rules.
  const fenceRefresh = setInterval(() => {
    services.geofences
      .refresh()
      .catch((err: unknown) => logger.warn({ err }, "reading geofences again failed"));
  }, FENCE_REFRESH_MS).unref();
  const levels = new LevelBuilder(stores.tracks, gapRuleFrom(config), clock, logger, {
    leads: () => stores.leadsBackgroundWork(),
  });
  await levels.start();
  services.webhookDelivery.start();
  services.offline.start();

  const httpServer = createServer();
  const app = createApp(httpServer, {
    services,
    positionStore: stores.positions,
    latest,
    config,
    clock,
    logger,
    version: VERSION,
    distDir: options.distDir,
    redis,
    metrics,
    health,
  });

  let osmandServer: Server | null = null;
  let osmandPort: number | null = null;
  let port: number;
  try {
    port = await listen(httpServer, config.port, config.host);
    // Phone apps set up for Traccar send to their own port (5055) at any path.
    if (config.osmandPort >= 0) {
      osmandServer = createServer(app.osmandListener);
      osmandPort = await listen(osmandServer, config.osmandPort, config.host);
      logger.info({ port: osmandPort }, "OsmAnd protocol listening");
    }
  } catch (err) {
    levels.stop();
    await services.webhookDelivery.stop();
    await services.offline.stop();
    clearInterval(fenceRefresh);
    await app.close();
    await redis?.close();
    await stores.close();
    throw err;
  }
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    osmandPort,
    app,
    services,
    stores,
    levels,
    health,
    metrics,
    close: () =>
      (closing ??= (async () => {
        const osmandClosed = osmandServer ? closeServer(osmandServer) : Promise.resolve();
        levels.stop();
        clearInterval(fenceRefresh);
        // Webhook requests under way are cut: their rows stay pending and go again after the next
        // start, as do events stored from here on (the fan-out cursor has not passed them).
        await services.webhookDelivery.stop();
        await services.offline.stop();
        // Commit and acknowledge what is queued before the sockets that wait for it go.
        await stores.stopWriting();
        // A peer that never answers the close (a half-open link, a balancer holding an idle
        // upstream) must not hold the shutdown: after a grace, cut whatever is still open.
        const cut = setTimeout(() => {
          logger.warn({ graceMs: SHUTDOWN_GRACE_MS }, "connections still open at shutdown: cut");
          httpServer.closeAllConnections();
          osmandServer?.closeAllConnections();
        }, SHUTDOWN_GRACE_MS).unref();
        await app.close();
        await redis?.close();
        await osmandClosed;
        clearTimeout(cut);
        // The events of the last commits, before the store goes.
        await services.events.idle();
        await stores.close();
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
