import type { Namespace } from "socket.io";
import type {
  DeviceClientToServer,
  DeviceServerToClient,
  ReportAck,
} from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import type { DeviceAuthenticator } from "./device-auth.ts";
import type { Ingest } from "./ingest.ts";

export interface DeviceSocketData {
  deviceId: string;
}

export type DeviceNamespace = Namespace<
  DeviceClientToServer,
  DeviceServerToClient,
  Record<string, never>,
  DeviceSocketData
>;

/** Wire the socket.io `/device` namespace to the ingest pipeline. */
export function attachDeviceNamespace(
  nsp: DeviceNamespace,
  deps: { ingest: Ingest; authenticate: DeviceAuthenticator; logger: Logger },
): void {
  const { ingest, authenticate, logger } = deps;

  nsp.use((socket, next) => {
    const result = authenticate(socket.handshake.auth);
    if (!result.ok) {
      // socket.io hands `data` to the client's connect_error, so devices see the code and reason.
      const err = Object.assign(new Error(result.message), {
        data: { code: result.code, message: result.message },
      });
      return next(err);
    }
    socket.data.deviceId = result.deviceId;
    next();
  });

  nsp.on("connection", (socket) => {
    const { deviceId } = socket.data;
    logger.debug({ deviceId }, "device connected");
    socket.on("position:report", (payload, ack) => {
      // A device that forgets the callback still gets its positions stored; it just hears nothing.
      const reply: (r: ReportAck) => void = typeof ack === "function" ? ack : () => {};
      ingest.report(deviceId, payload).then(reply, (err: unknown) => {
        logger.error({ err, deviceId }, "report handler failed");
        reply({ ok: false, error: { code: "internal", message: "internal error, retry" } });
      });
    });
    // A device speaking a newer or foreign dialect learns so, instead of waiting for an ack forever.
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event === "position:report") return;
      const ack = args.at(-1);
      if (typeof ack === "function") {
        ack({
          ok: false,
          error: {
            code: "unknown_event",
            message: `unknown event "${String(event).slice(0, 64)}"`,
          },
        });
      }
    });
    socket.on("disconnect", (reason) => logger.debug({ deviceId, reason }, "device disconnected"));
  });
}
