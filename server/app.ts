import type { Server as HttpServer, IncomingMessage } from "node:http";
import express from "express";
import { Server } from "socket.io";
import { DEVICE_NAMESPACE, LIVE_NAMESPACE } from "../protocol/index.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { apiRouter } from "./http/api.ts";
import { ConnectionLimit } from "./http/connection-limit.ts";
import { apiNotFound, errorHandler } from "./http/errors.ts";
import { corsHeaders, originAllowed, securityHeaders } from "./http/security.ts";
import { dashboardRouter } from "./http/static.ts";
import { deviceAuthenticator } from "./ingest/device-auth.ts";
import { attachDeviceNamespace, type DeviceNamespace } from "./ingest/device-namespace.ts";
import { GroupCommitter } from "./ingest/group-commit.ts";
import { Ingest } from "./ingest/ingest.ts";
import { PlausibilityCheck } from "./ingest/plausibility.ts";
import { RateLimiter } from "./ingest/rate-limit.ts";
import { LiveHub, type LiveNamespace } from "./live/hub.ts";
import type { Logger } from "./logger.ts";
import { DIST_DIR } from "./paths.ts";
import { Access } from "./access/access.ts";
import { adminRouter } from "./http/admin.ts";
import { requireAdmin, requireUser, sessionRouter } from "./http/session.ts";
import { attachLiveAuth } from "./live/live-auth.ts";
import type { DeviceRegistry } from "./store/device-registry.ts";
import type { UserStore } from "./store/user-store.ts";
import type { PositionStore } from "./store/position-store.ts";

export interface AppDeps {
  store: PositionStore;
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

  const origins = config.corsOrigins
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  const connections = new ConnectionLimit(config.maxConnectionsPerIp);
  const io = new Server(httpServer, {
    serveClient: false,
    // A full batch (1,000 fixes with attributes) stays well under this; anything larger is abuse.
    maxHttpBufferSize: 4 * 1024 * 1024,
    allowRequest: (req, callback) => {
      if (!originAllowed(req, origins)) return callback("origin not allowed", false);
      if (!connections.admits(req))
        return callback("too many connections from this address", false);
      callback(null, true);
    },
  });
  io.engine.on(
    "connection",
    (raw: { request: IncomingMessage; once(e: "close", f: () => void): void }) => {
      raw.once("close", connections.track(raw.request));
    },
  );
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
    store,
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
  attachDeviceNamespace(io.of(DEVICE_NAMESPACE) as DeviceNamespace, {
    ingest,
    authenticate: deviceAuthenticator(deps.registry, { openRegistration: config.openRegistration }),
    logger,
  });

  http.disable("x-powered-by");
  http.use(securityHeaders(config.tileUrl), corsHeaders(origins));
  // A few sign-in attempts a minute per address and per user name, with a small burst for typos.
  const loginLimiter = new RateLimiter({ rate: 0.1, burst: 5 });
  http.use("/api/session", sessionRouter({ access, limiter: loginLimiter, clock }));
  http.use(
    "/api/admin",
    requireUser(access),
    requireAdmin,
    adminRouter({ registry: deps.registry, users: deps.users }),
  );
  http.use(
    "/api",
    apiRouter({ store, hub, committer, access, config, clock, version }),
    apiNotFound,
  );
  http.use(dashboardRouter(deps.distDir ?? DIST_DIR));
  http.use(errorHandler(logger));

  return {
    io,
    hub,
    committer,
    async close() {
      committer.close();
      // Let the acks of that last commit reach their sockets before the sockets go.
      await new Promise((resolve) => setImmediate(resolve));
      hub.close();
      await io.close();
    },
  };
}
