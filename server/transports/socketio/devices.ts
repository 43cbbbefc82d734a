import type { Namespace } from "socket.io";
import type {
  DeviceClientToServer,
  DeviceServerToClient,
  ReportAck,
} from "../../../protocol/index.ts";
import type { Logger } from "../../logger.ts";
import type { DeviceService } from "../../services/devices.ts";
import type { PositionService } from "../../services/positions.ts";
import { errorBody } from "../errors.ts";

export interface DeviceSocketData {
  deviceId: string;
}

export type DeviceNamespace = Namespace<
  DeviceClientToServer,
  DeviceServerToClient,
  Record<string, never>,
  DeviceSocketData
>;

/**
 * The socket.io `/device` namespace: the handshake authenticates the device (its identity is then
 * fixed for the connection, so it can only ever report as itself), and each `position:report` is
 * one call to the positions service, its ack the service's answer.
 */
export function attachDeviceNamespace(
  nsp: DeviceNamespace,
  deps: { positions: PositionService; devices: DeviceService; logger: Logger },
): void {
  const { positions, devices, logger } = deps;

  nsp.use((socket, next) => {
    devices.authenticate(socket.handshake.auth ?? {}).then(
      (deviceId) => {
        socket.data.deviceId = deviceId;
        next();
      },
      (err: unknown) => {
        // socket.io hands `data` to the client's connect_error, so devices see the code and reason.
        const data = errorBody(
          err,
          logger,
          { where: "device handshake" },
          {
            rename: (field) => `auth.${field}`,
            joiner: " ",
          },
        );
        next(Object.assign(new Error(data.message), { data }));
      },
    );
  });

  // A removed device is cut off at once; it is refused if it comes back.
  devices.onChange((change) => {
    if (change.type !== "removed") return;
    for (const socket of nsp.sockets.values()) {
      if (socket.data.deviceId === change.deviceId) socket.disconnect(true);
    }
  });

  nsp.on("connection", (socket) => {
    const { deviceId } = socket.data;
    logger.debug({ deviceId }, "device connected");
    socket.on("position:report", (payload, ack) => {
      // A device that forgets the callback still gets its positions stored; it just hears nothing.
      const reply: (r: ReportAck) => void = typeof ack === "function" ? ack : () => {};
      positions.report(deviceId, payload, "socketio").then(reply, (err: unknown) => {
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
