import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import {
  WS_CLOSE,
  WS_PATH,
  type WsClientFrame,
  type WsErrorCode,
  type WsServerFrame,
} from "../../../protocol/ws.ts";
import type { Clock } from "../../clock.ts";
import type { LiveHub } from "../../live/hub.ts";
import type { Logger } from "../../logger.ts";
import type { AccessService, User } from "../../services/access.ts";
import type { DeviceService } from "../../services/devices.ts";
import type { PositionService } from "../../services/positions.ts";
import { errorBody } from "../errors.ts";
import type { ConnectionLimit } from "../http/connection-limit.ts";
import { originAllowed } from "../http/security.ts";
import { parseFrame } from "./frames.ts";
import { DEFAULT_VIEWER_LIMITS, WsViewer, type ViewerLimits } from "./viewer.ts";

export interface PlainWsDeps {
  positions: PositionService;
  devices: DeviceService;
  access: AccessService;
  hub: LiveHub;
  /** Browser origins allowed besides our own (`--cors-origins`), as for socket.io. */
  origins: readonly string[];
  /** Shared with socket.io, so the per-address cap counts both. */
  connections: ConnectionLimit;
  clock: Clock;
  logger: Logger;
  viewerLimits?: ViewerLimits;
}

/** A full batch (1,000 fixes with attributes) fits; the same bound as socket.io's. */
const MAX_PAYLOAD = 4 * 1024 * 1024;
/** A connection that has not said who it is by then is closed. */
const AUTH_TIMEOUT_MS = 10_000;
/** Dead peers (a phone that lost its network) are found by ping and dropped. */
const HEARTBEAT_MS = 30_000;

type Session = { role: "device"; deviceId: string } | { role: "viewer"; unsubscribe: () => void };

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const text = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

function send(ws: WebSocket, frame: WsServerFrame): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

/**
 * The plain WebSocket endpoint (`/ws`): devices report and viewers watch, in JSON text frames,
 * through the same ingest, device rules and live hub as socket.io clients.
 *
 * Only upgrades for `/ws` are taken. socket.io's engine also listens for upgrades: it handles
 * `/socket.io/` and, for any other path, ends the socket after a second only if nothing was
 * written to it — by then ours has its 101 (or its refusal), so the two never both answer.
 */
export function attachPlainWebSocket(httpServer: HttpServer, deps: PlainWsDeps) {
  const { positions, devices, access, hub, origins, connections, clock, logger } = deps;
  const viewerLimits = deps.viewerLimits ?? DEFAULT_VIEWER_LIMITS;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
  const alive = new WeakMap<WebSocket, boolean>();
  /** Which device each device connection reports as, to cut off a device that is removed. */
  const deviceOf = new Map<WebSocket, string>();
  /** Viewers connected now, for the metrics. */
  let viewers = 0;
  devices.onChange((change) => {
    if (change.type !== "removed") return;
    for (const [ws, deviceId] of deviceOf) {
      if (deviceId === change.deviceId) ws.close(WS_CLOSE.unauthorized, "device removed");
    }
  });
  let closing = false;

  httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? "/", "http://locus").pathname !== WS_PATH) return;
    socket.on("error", (err) => logger.debug({ err }, "plain websocket upgrade failed"));
    if (closing) return refuseUpgrade(socket, 503, "Service Unavailable");
    if (!originAllowed(req, origins)) return refuseUpgrade(socket, 403, "Forbidden");
    if (!connections.admits(req)) return refuseUpgrade(socket, 429, "Too Many Requests");
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  });

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    ws.once("close", connections.track(req));
    alive.set(ws, true);
    ws.on("pong", () => alive.set(ws, true));
    ws.on("error", (err) => logger.debug({ err }, "plain websocket error"));
    let session: Session | null = null;
    const authTimer = setTimeout(() => {
      if (!session) refuse("unauthorized", "authenticate within 10 s");
    }, AUTH_TIMEOUT_MS);
    ws.once("close", () => {
      clearTimeout(authTimer);
      deviceOf.delete(ws);
      if (session?.role === "viewer") {
        session.unsubscribe();
        viewers--;
      }
    });

    function refuse(code: WsErrorCode, message: string) {
      send(ws, { type: "error", code, message });
      ws.close(WS_CLOSE.unauthorized, code);
    }

    async function becomeDevice(deviceId: unknown, token: unknown): Promise<void> {
      let id: string;
      try {
        id = await devices.authenticate({ deviceId, token });
      } catch (err) {
        const { code, message } = errorBody(
          err,
          logger,
          { where: "ws device auth" },
          { joiner: " " },
        );
        return refuse(code as WsErrorCode, message);
      }
      session = { role: "device", deviceId: id };
      deviceOf.set(ws, id);
      send(ws, { type: "ready", role: "device", deviceId: id });
    }

    function becomeViewer(user: User, identify: () => Promise<User | null>): void {
      // Identifying the user took a database read: the client may have left meanwhile, and its
      // close handler, which unsubscribes, has then already run.
      if (ws.readyState !== WebSocket.OPEN) return;
      send(ws, { type: "ready", role: "viewer", user: user.name });
      const snapshot = (u: User) => hub.snapshot(u);
      const viewer = new WsViewer(user, ws, snapshot, clock, viewerLimits, identify);
      session = { role: "viewer", unsubscribe: hub.subscribe(viewer) };
      viewers++;
    }

    async function onFrame(frame: WsClientFrame): Promise<void> {
      if (frame.type === "auth") {
        if (session) {
          return send(ws, {
            type: "error",
            code: "already_authenticated",
            message: "this connection is already authenticated",
          });
        }
        if (frame.deviceId !== undefined) return becomeDevice(frame.deviceId, frame.token);
        const identify = () => access.identify({}, frame.token);
        const user = await identify();
        return user ? becomeViewer(user, identify) : refuse("unauthorized", "unknown API token");
      }
      const id = frame.id;
      const reply = (r: Omit<Extract<WsServerFrame, { type: "error" }>, "type" | "id">) =>
        send(ws, id === undefined ? { type: "error", ...r } : { type: "error", id, ...r });
      if (!session) {
        return reply({ code: "not_authenticated", message: "send an auth frame first" });
      }
      if (session.role !== "device") {
        return reply({ code: "not_a_device", message: "viewers cannot report positions" });
      }
      const { deviceId } = session;
      // Not awaited: reports pipeline, each acked by its id when its commit is done.
      positions.report(deviceId, frame.positions, "ws").then(
        (ack) => send(ws, id === undefined ? { type: "ack", ...ack } : { type: "ack", id, ...ack }),
        (err: unknown) => {
          logger.error({ err, deviceId }, "plain websocket report failed");
          const error = { code: "internal" as const, message: "internal error, retry" };
          send(ws, { type: "ack", ...(id === undefined ? {} : { id }), ok: false, error });
        },
      );
    }

    // Frames are handled in arrival order, each after the authentication before it has settled
    // (a device may send its auth frame and a report back to back).
    let turn = authenticateFromRequest();
    ws.on("message", (data, isBinary) => {
      turn = turn
        .then(() => {
          if (isBinary) {
            return send(ws, {
              type: "error",
              code: "invalid_frame",
              message: "send JSON text frames",
            });
          }
          const parsed = parseFrame(data.toString());
          if ("error" in parsed) return send(ws, parsed.error);
          return onFrame(parsed.frame);
        })
        .catch((err: unknown) => logger.error({ err }, "plain websocket frame failed"));
    });

    /** Credentials in the URL or headers authenticate at once; otherwise the first frame must. */
    async function authenticateFromRequest(): Promise<void> {
      const query = new URL(req.url ?? "/", "http://locus").searchParams;
      const queryToken = query.get("token") ?? undefined;
      if (query.has("deviceId")) return becomeDevice(query.get("deviceId"), queryToken);
      const identify = () => access.identify(req.headers, queryToken);
      const user = await identify();
      if (user) return becomeViewer(user, identify);
      if (queryToken !== undefined || req.headers.authorization) {
        refuse("unauthorized", "unknown API token");
      }
    }
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    /** Devices and viewers connected now. */
    counts: () => ({ devices: deviceOf.size, viewers }),
    /** Tell every client the server is going away, then drop whoever has not left after 1 s. */
    async close(): Promise<void> {
      closing = true;
      clearInterval(heartbeat);
      const clients = [...wss.clients];
      for (const ws of clients) ws.close(WS_CLOSE.goingAway, "server shutting down");
      const gone = clients.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once("close", () => resolve());
          }),
      );
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
      await Promise.race([Promise.all(gone), timeout]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
