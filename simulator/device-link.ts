import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import {
  DEVICE_NAMESPACE,
  type DeviceAuth,
  type DeviceClientToServer,
  type DeviceServerToClient,
  type Position,
  type ReportAck,
} from "../protocol/index.ts";
import { backoff } from "./retry.ts";

/**
 * One device's socket.io connection to a Locus server's /device namespace. socket.io reconnects
 * by itself after a lost link, but gives up in two cases a device must survive: the server closed
 * the socket on purpose (e.g. a restart), or refused the handshake. The link comes back then too,
 * with backoff rather than in a tight loop.
 */

export interface DeviceLinkOptions {
  url: string;
  deviceId: string;
  token?: string;
  ioOptions?: Partial<ManagerOptions & SocketOptions>;
}

export interface DeviceLinkEvents {
  connect(): void;
  disconnect(reason: string): void;
  /** A connection attempt failed; `code` is the server's when it refused the handshake. */
  connectError(code: string, message: string): void;
}

export class DeviceLink {
  readonly #socket: Socket<DeviceServerToClient, DeviceClientToServer>;
  readonly #on: DeviceLinkEvents;
  /** Consecutive failed connects, for the reconnect backoff. */
  #connectFailures = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(options: DeviceLinkOptions, on: DeviceLinkEvents) {
    const { url, deviceId, token, ioOptions } = options;
    this.#on = on;
    const auth: DeviceAuth = token === undefined ? { deviceId } : { deviceId, token };
    this.#socket = io(url.replace(/\/+$/, "") + DEVICE_NAMESPACE, {
      transports: ["websocket"],
      // One connection per device, even when many devices share a process.
      forceNew: true,
      ...ioOptions,
      auth,
    });
    this.#socket.on("connect", () => this.#onConnect());
    this.#socket.on("disconnect", (reason) => this.#onDisconnect(reason));
    this.#socket.on("connect_error", (err) => this.#onConnectError(err));
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** Emit a report; `onAck` gets the server's answer, or an error when none came in `timeoutMs`. */
  report(
    positions: Position[],
    timeoutMs: number,
    onAck: (err: Error | null, ack: ReportAck) => void,
  ): void {
    this.#socket.timeout(timeoutMs).emit("position:report", positions, onAck);
  }

  /** Drop the connection as a lost radio link would: no goodbye, socket.io reconnects. */
  interrupt(): void {
    this.#socket.io.engine?.close();
  }

  /** Disconnect for good. The disconnect event still fires, so the owner can take stock. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#socket.disconnect();
    this.#socket.removeAllListeners();
  }

  #onConnect(): void {
    this.#connectFailures = 0;
    this.#on.connect();
  }

  #onDisconnect(reason: string): void {
    // A report emitted just as the connection died may sit in socket.io's own buffer, which it
    // would send on reconnect on top of the client's resend. The client's is the one that keeps
    // the order.
    this.#socket.sendBuffer = [];
    if (reason === "io server disconnect" && !this.#closed) this.#reconnectLater();
    this.#on.disconnect(reason);
  }

  #onConnectError(err: Error & { data?: { code?: string; message?: string } }): void {
    // Refused by the server's handshake check: socket.io gives up, so retry ourselves, slowly.
    const refused = !this.#socket.active;
    if (refused) this.#reconnectLater();
    this.#on.connectError(err.data?.code ?? "connect_error", err.data?.message ?? err.message);
  }

  #reconnectLater(): void {
    if (this.#reconnectTimer || this.#closed) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (!this.#closed && !this.#socket.connected) this.#socket.connect();
    }, backoff(++this.#connectFailures));
  }
}
