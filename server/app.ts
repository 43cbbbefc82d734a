import type { Server as HttpServer, RequestListener } from "node:http";
import express from "express";
import type { Server } from "socket.io";
import { DEVICE_NAMESPACE, LIVE_NAMESPACE } from "../protocol/index.ts";
import { WS_PATH } from "../protocol/ws.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { apiRouter } from "./http/api.ts";
import { apiNotFound, errorHandler } from "./http/errors.ts";
import { corsHeaders, securityHeaders } from "./http/security.ts";
import { dashboardRouter } from "./http/static.ts";
import { deviceAuthenticator } from "./ingest/device-auth.ts";
import { attachDeviceNamespace, type DeviceNamespace } from "./ingest/device-namespace.ts";
import { GroupCommitter } from "./ingest/group-commit.ts";
import type { PositionWriter } from "./store/position-writer.ts";
import { Ingest } from "./ingest/ingest.ts";
import { PlausibilityCheck } from "./ingest/plausibility.ts";
import { RateLimiter } from "./ingest/rate-limit.ts";
import { LiveHub, type LiveNamespace } from "./live/hub.ts";
import type { Logger } from "./logger.ts";
import { DIST_DIR } from "./paths.ts";
import { Access } from "./access/access.ts";
import { adminRouter } from "./http/admin.ts";
import { historyRouter } from "./http/history.ts";
import { requireAdmin, requireUser, sessionRouter } from "./http/session.ts";
import { attachLiveAuth } from "./live/live-auth.ts";
import type { DeviceRegistry } from "./store/device-registry.ts";
import type { UserStore } from "./store/user-store.ts";
import type { PositionStore } from "./store/position-store.ts";
import type { TrackStore } from "./store/track-store.ts";
import { LevelBuilder } from "./history/level-builder.ts";
import { trackRouter } from "./http/track.ts";
import { allowedOrigins, createSocketServer } from "./socket-server.ts";
import { ConnectionLimit } from "./http/connection-limit.ts";
import { osmandHandlers } from "./gateways/osmand.ts";
import { owntracksHandlers } from "./gateways/owntracks.ts";
import { attachPlainWebSocket } from "./gateways/plain-ws.ts";

export interface AppDeps {
  store: PositionStore;
  tracks: TrackStore;
  /** Where the group committer's transactions are written (a worker thread, normally). */
  writer: PositionWriter;
  config: Readonly<Config>;
  logger: Logger;
  version: string;
  registry: DeviceRegistry;
  users: UserStore;
  clock?: Clock;
  distDir?: string;
}

export interface LocusApp {
  io: Server;
  hub: LiveHub;
  committer: GroupCommitter;
  /** The OsmAnd protocol on every path, for the dedicated `--osmand-port` listener. */
  osmandListener: RequestListener;
  /** Keeps the level-of-detail tracks up to date in the background. */
  levels: LevelBuilder;
  /** Stop taking reports, commit and ack what is queued, then disconnect everyone. */
  close(): Promise<void>;
}

/** Wire the pipeline onto an HTTP server. Takes every dependency; picks no implementation itself. */
export function createApp(httpServer: HttpServer, deps: AppDeps): LocusApp {
  const { store, config, logger, version } = deps;
  const clock = deps.clock ?? systemClock;

  // Express must be attached before socket.io: socket.io then wraps the request listeners and
  // keeps /socket.io/ requests away from express (otherwise both answer them, and the second
  // write crashes the process).
  const http = express();
  httpServer.on("request", http);

  const connections = new ConnectionLimit(config.maxConnectionsPerIp);
  const io = createSocketServer(httpServer, config, connections);
  const access = new Access(deps.users, clock, config.sessionTtlHours * 3_600_000);
  attachLiveAuth(io.of(LIVE_NAMESPACE) as LiveNamespace, access);
  const initialDevices = store.devices();
  const hub = new LiveHub(
    io.of(LIVE_NAMESPACE) as LiveNamespace,
    {
      tickMs: config.tickMs,
      offlineAfterMs: config.offlineAfterMs,
      movingSpeed: config.movingSpeed,
    },
    clock,
    logger,
    initialDevices,
  );
  const committer = new GroupCommitter(
    deps.writer,
    { delayMs: config.commitDelayMs, maxRows: config.commitMaxRows },
    logger,
  );
  const ingest = new Ingest({
    committer,
    limiter: new RateLimiter({ rate: config.rateLimit, burst: config.rateBurst }),
    plausibility: new PlausibilityCheck(config, initialDevices),
    maxFutureMs: config.maxFutureMs,
    clock,
    logger,
    onStored: hub.onStored,
  });
  const authenticate = deviceAuthenticator(deps.registry, {
    openRegistration: config.openRegistration,
  });
  attachDeviceNamespace(io.of(DEVICE_NAMESPACE) as DeviceNamespace, {
    ingest,
    authenticate,
    logger,
  });
  // Phone apps and plain WebSocket clients: other doors into the same ingest and live hub.
  const plainWs = attachPlainWebSocket(httpServer, {
    ingest,
    authenticate,
    access,
    hub,
    origins: allowedOrigins(config),
    connections,
    clock,
    logger,
  });
  const osmand = osmandHandlers({ ingest, authenticate, clock });

  http.disable("x-powered-by");
  // Behind a TLS-terminating proxy this makes req.secure true (so session cookies get `Secure`)
  // and req.ip the client's, which the sign-in rate limit keys on.
  if (config.trustProxy) http.set("trust proxy", "loopback, linklocal, uniquelocal");
  http.use(securityHeaders(config.tileUrl), corsHeaders(allowedOrigins(config)));
  // A few sign-in attempts a minute per address and per user name, with a small burst for typos.
  const loginLimiter = new RateLimiter({ rate: 0.1, burst: 5 });
  // Device gateways sit outside /api (no user session: devices carry their own credentials) and
  // before the dashboard's catch-all page.
  http.use("/osmand", ...osmand);
  http.use("/owntracks", ...owntracksHandlers({ ingest, authenticate }));
  http.get(WS_PATH, (_req, res) => {
    res.setHeader("Upgrade", "websocket");
    res.status(426).json({
      error: { code: "upgrade_required", message: "this is a WebSocket endpoint" },
    });
  });
  http.use("/api/session", sessionRouter({ access, limiter: loginLimiter, clock }));
  http.use(
    "/api/admin",
    requireUser(access),
    requireAdmin,
    adminRouter({
      registry: deps.registry,
      users: deps.users,
      endFeeds: (name, why) => hub.endFeeds(name, why),
    }),
  );
  const gaps = { maxGapMs: config.gapMinutes * 60_000, maxJumpM: config.gapKm * 1000 };
  // Level writes wait for no commit, and the writer's memory of marked hours stays exact.
  const levels = new LevelBuilder(deps.tracks, gaps, clock, logger, {
    exclusive: (work) => committer.runExclusive(work),
  });
  levels.start();
  http.use("/api", trackRouter({ tracks: deps.tracks, access, gaps }));
  http.use(
    "/api",
    apiRouter({ store, hub, committer, access, config, clock, version }),
    requireUser(access),
    historyRouter({ store, registry: deps.registry, committer, config, clock }),
    apiNotFound,
  );
  http.use(dashboardRouter(deps.distDir ?? DIST_DIR));
  http.use(errorHandler(logger));

  const osmandListener = express();
  osmandListener.disable("x-powered-by");
  osmandListener.use(...osmand, errorHandler(logger));

  return {
    io,
    hub,
    committer,
    osmandListener,
    levels,
    async close() {
      levels.stop();
      await committer.close();
      // Let the acks of that last commit reach their sockets before the sockets go.
      await new Promise((resolve) => setImmediate(resolve));
      hub.close();
      await plainWs.close();
      await io.close();
    },
  };
}
