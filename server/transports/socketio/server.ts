import type { Server as HttpServer, IncomingMessage } from "node:http";
import { Server, type ServerOptions } from "socket.io";
import type { Config } from "../../config.ts";
import type { ConnectionLimit } from "../http/connection-limit.ts";
import { originAllowed } from "../http/security.ts";

/** How long a disconnected dashboard's session is kept for recovery (socket.io's default). */
export const RECOVERY_WINDOW_MS = 2 * 60_000;

/** Browser origins allowed besides our own, from `--cors-origins`. */
export function allowedOrigins(config: Readonly<Config>): string[] {
  return config.corsOrigins
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
}

/**
 * The socket.io server for devices and dashboards, with the transport-level limits: frame size,
 * browser origin, and connections per client address — all checked before a connection costs
 * anything. Attach express to `httpServer` first (see app.ts). `connections` is shared with the
 * plain WebSocket endpoint, so the per-address cap counts both.
 *
 * With a cluster adapter (`--redis-url`), broadcasts travel through Redis and dashboards get
 * connection state recovery: one that lost its link for a moment has the batches it missed
 * replayed instead of a full snapshot. Its handshake is checked again all the same (access may
 * have changed meanwhile), and a recovered socket keeps no user from before.
 */
export function createSocketServer(
  httpServer: HttpServer,
  config: Readonly<Config>,
  connections: ConnectionLimit,
  cluster?: { adapter: NonNullable<ServerOptions["adapter"]> },
): Server {
  const origins = allowedOrigins(config);
  const io = new Server(httpServer, {
    ...(cluster && {
      adapter: cluster.adapter,
      connectionStateRecovery: {
        maxDisconnectionDuration: RECOVERY_WINDOW_MS,
        skipMiddlewares: false,
      },
    }),
    serveClient: false,
    // A full batch (1,000 fixes with attributes) stays well under this; anything larger is abuse.
    maxHttpBufferSize: 4 * 1024 * 1024,
    allowRequest: (req, callback) => {
      if (!originAllowed(req, origins)) return callback("origin not allowed", false);
      if (!connections.admits(req)) {
        return callback("too many connections from this address", false);
      }
      callback(null, true);
    },
  });
  type RawConnection = { request: IncomingMessage; once(e: "close", f: () => void): void };
  io.engine.on("connection", (raw: RawConnection) => {
    raw.once("close", connections.track(raw.request));
  });
  return io;
}
