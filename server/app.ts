import type { Server as HttpServer, RequestListener } from "node:http";
import express from "express";
import type { Server } from "socket.io";
import { DEVICE_NAMESPACE, LIVE_NAMESPACE } from "../protocol/index.ts";
import { WS_PATH } from "../protocol/ws.ts";
import type { Clock } from "./clock.ts";
import { attachClusterBus } from "./cluster/bus.ts";
import type { RedisLink } from "./cluster/redis.ts";
import type { Config } from "./config.ts";
import { LiveHub, type LiveNamespace } from "./live/hub.ts";
import type { Logger } from "./logger.ts";
import type { HealthChecks } from "./observability/health.ts";
import type { LocusMetrics } from "./observability/metrics.ts";
import { DIST_DIR } from "./paths.ts";
import type { Services } from "./services/index.ts";
import { RateLimiter } from "./services/rate-limit.ts";
import type { LatestFix, PositionStore } from "./stores/ports.ts";
import { osmandHandlers } from "./transports/osmand/osmand.ts";
import { owntracksHandlers } from "./transports/owntracks/owntracks.ts";
import { ConnectionLimit } from "./transports/http/connection-limit.ts";
import { apiNotFound, errorHandler } from "./transports/http/errors.ts";
import { metricsHandler } from "./transports/http/metrics.ts";
import { corsHeaders, securityHeaders } from "./transports/http/security.ts";
import { dashboardRouter } from "./transports/http/static.ts";
import { adminRouter } from "./transports/rest/admin.ts";
import { apiRouter } from "./transports/rest/api.ts";
import { geofencesRouter } from "./transports/rest/geofences.ts";
import { historyRouter } from "./transports/rest/history.ts";
import { notificationsRouter } from "./transports/rest/notifications.ts";
import { pushRouter } from "./transports/rest/push.ts";
import { requireAdmin, requireUser, sessionRouter } from "./transports/rest/session.ts";
import { trackRouter } from "./transports/rest/track.ts";
import { attachDashboardAuth } from "./transports/socketio/dashboards.ts";
import { attachDeviceNamespace, type DeviceNamespace } from "./transports/socketio/devices.ts";
import {
  allowedOrigins,
  createSocketServer,
  RECOVERY_WINDOW_MS,
} from "./transports/socketio/server.ts";
import { attachPlainWebSocket } from "./transports/ws/endpoint.ts";

export interface AppDeps {
  services: Services;
  /** For the ingest figures in /api/health. */
  positionStore: PositionStore;
  /** Each device's newest fix: where the live map starts. */
  latest: readonly LatestFix[];
  config: Readonly<Config>;
  clock: Clock;
  logger: Logger;
  version: string;
  distDir?: string;
  /** The cluster's Redis (`--redis-url`), or none for a node alone. */
  redis?: RedisLink | null;
  /** `/metrics`; its connection gauges are read from the transports attached here. */
  metrics: LocusMetrics;
  /** What /api/health reports. */
  health: HealthChecks;
}

export interface LocusApp {
  io: Server;
  hub: LiveHub;
  /** The OsmAnd protocol on every path, for the dedicated `--osmand-port` listener. */
  osmandListener: RequestListener;
  /** Stop the live feeds and disconnect everyone (after the stores acknowledged what was queued). */
  close(): Promise<void>;
}

/**
 * Attach every transport to an HTTP server: each one a thin adapter onto the services. Takes
 * every dependency; picks no implementation itself.
 */
export function createApp(httpServer: HttpServer, deps: AppDeps): LocusApp {
  const { services, config, clock, logger } = deps;
  const { access, devices, people, positions, history } = services;

  // Express must be attached before socket.io: socket.io then wraps the request listeners and
  // keeps /socket.io/ requests away from express (otherwise both answer them, and the second
  // write crashes the process).
  const http = express();
  httpServer.on("request", http);

  const connections = new ConnectionLimit(config.maxConnectionsPerIp);
  const redis = deps.redis ?? undefined;
  const io = createSocketServer(httpServer, config, connections, redis);
  const liveNamespace = io.of(LIVE_NAMESPACE) as LiveNamespace;
  attachDashboardAuth(liveNamespace, access, logger);
  const recoveryWindowMs = redis ? RECOVERY_WINDOW_MS : 0;
  const hub = new LiveHub(liveNamespace, access, { ...config, recoveryWindowMs }, clock, logger);
  hub.seed(deps.latest, devices.all(), clock.now());
  positions.onStored(hub.onStored);
  devices.onChange(hub.onDeviceChange);
  people.onFeedsEnd((name, why) => hub.endFeeds(name, why));
  services.events.onEvent((event) => hub.pushEvent(event));
  // Other nodes' fixes, device and access changes reach these services and this hub.
  const bus = redis
    ? attachClusterBus({ io, hub, services, positionStore: deps.positionStore, redis, logger })
    : null;

  attachDeviceNamespace(io.of(DEVICE_NAMESPACE) as DeviceNamespace, { positions, devices, logger });
  // Phone apps and plain WebSocket clients: other doors into the same services and live hub.
  const plainWs = attachPlainWebSocket(httpServer, {
    positions,
    devices,
    access,
    hub,
    origins: allowedOrigins(config),
    connections,
    clock,
    logger,
  });
  const osmand = osmandHandlers({ positions, devices, clock });
  const deviceNamespace = io.of(DEVICE_NAMESPACE);
  deps.metrics.countConnections(() => {
    const ws = plainWs.counts();
    return {
      devices: { socketio: deviceNamespace.sockets.size, ws: ws.devices },
      dashboards: liveNamespace.sockets.size,
      wsViewers: ws.viewers,
    };
  });

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
  http.use("/owntracks", ...owntracksHandlers({ positions, devices, events: services.events }));
  http.get(WS_PATH, (_req, res) => {
    res.setHeader("Upgrade", "websocket");
    res.status(426).json({
      error: { code: "upgrade_required", message: "this is a WebSocket endpoint" },
    });
  });
  http.get("/metrics", metricsHandler({ access, metrics: deps.metrics }));
  http.use("/api/session", sessionRouter({ access, limiter: loginLimiter, clock }));
  http.use("/api/admin", requireUser(access), requireAdmin, adminRouter({ devices, people }));
  http.use("/api", trackRouter({ access, history }));
  http.use(
    "/api",
    apiRouter({
      hub,
      access,
      history,
      positions: deps.positionStore,
      health: deps.health,
      config,
      clock,
      version: deps.version,
    }),
    requireUser(access),
    historyRouter({ access, history, positions, importMaxMb: config.importMaxMb }),
    geofencesRouter({ geofences: services.geofences, events: services.events }),
    notificationsRouter({ notifications: services.notifications }),
    pushRouter({ push: services.push }),
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
    osmandListener,
    async close() {
      // Let the acks of the last commit reach their sockets before the sockets go.
      await new Promise((resolve) => setImmediate(resolve));
      bus?.close();
      hub.close();
      await plainWs.close();
      await io.close();
    },
  };
}
