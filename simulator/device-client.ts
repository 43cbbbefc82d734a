import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import {
  DEVICE_NAMESPACE,
  MAX_BATCH,
  type DeviceAuth,
  type DeviceClientToServer,
  type DeviceServerToClient,
  type Position,
  type ReportAck,
} from "../protocol/index.ts";
import { Fifo } from "./fifo.ts";
import { backoff, isReportAck, RETRYABLE } from "./retry.ts";

/**
 * A reusable Locus device client: hand it positions with `push()`, it delivers them in order,
 * at least once, and tells you how it is doing.
 *
 * - Every position stays buffered until the server acknowledges it (the ack comes after the
 *   SQLite commit), so nothing is lost to a dropped connection or a server restart.
 * - At most one batch is in flight. That keeps delivery in order and lets a slow server set the
 *   pace: whatever piles up meanwhile leaves in the next batch.
 * - A batch whose ack never came (timeout, disconnect) goes back to the front and is sent again.
 *   The server may already have stored it; it then counts those positions as duplicates, which
 *   is why resending is always safe.
 * - The buffer is bounded: when full, the oldest waiting position is dropped (and counted), since
 *   a live tracker values the newest fixes most.
 *
 * Batches are only emitted while connected: socket.io's own offline buffer would send them again
 * on reconnect on top of our resend.
 *
 * ```ts
 * const client = createDeviceClient({ url: "http://localhost:3000", deviceId: "truck-17" });
 * client.on("error", (err) => console.warn(err.code, err.message));
 * client.push({ ts: Date.now(), lat: 52.52, lon: 13.405 });
 * await client.flush(5_000);
 * client.close();
 * ```
 */

export interface DeviceClientOptions {
  /** Server base URL, e.g. `http://localhost:3000`; the `/device` namespace is appended. */
  url: string;
  deviceId: string;
  token?: string;
  /** Positions waiting to be sent before the oldest are dropped (the in-flight batch is extra). */
  maxBuffered?: number;
  /** Positions per report, at most the protocol's MAX_BATCH. */
  maxBatch?: number;
  /** How long to wait for an ack before sending the batch again. */
  ackTimeoutMs?: number;
  /** Passed to socket.io-client's `io()`, e.g. reconnection delays; `auth` is always ours. */
  ioOptions?: Partial<ManagerOptions & SocketOptions>;
}

export interface DeviceClientStats {
  /** Positions handed to push(). */
  pushed: number;
  /** Positions emitted, resends included. */
  sent: number;
  /** Of `sent`, positions emitted again after a lost or failed ack. */
  resent: number;
  /** Positions settled by the server: accepted + duplicates + rejected. */
  acked: number;
  accepted: number;
  /** Positions the server already had (same device and ts). */
  duplicates: number;
  /** Positions refused: invalid ones, or whole batches answered with a non-retryable error. */
  rejected: number;
  /** Positions dropped unsent because the buffer was full. */
  dropped: number;
  /** Positions waiting to be sent. */
  buffered: number;
  /** Positions sent and not yet acknowledged. */
  inFlight: number;
  connected: boolean;
  /** Connection errors, ack timeouts and error acks. */
  errors: number;
  /** Longest time a position waited from push() to its ack, ms. */
  maxWaitMs: number;
}

/** What went wrong: `code` is the server's error code, `connect_error` or `ack_timeout`. */
export class DeviceClientError extends Error {
  readonly code: string;
  /** Whether the client will try again by itself. */
  readonly retrying: boolean;

  constructor(code: string, message: string, retrying: boolean) {
    super(message);
    this.name = "DeviceClientError";
    this.code = code;
    this.retrying = retrying;
  }
}

export interface DeviceClientEvents {
  connect: () => void;
  disconnect: (reason: string) => void;
  error: (error: DeviceClientError) => void;
  /** Buffer overflow: emitted once when dropping starts, again only after the buffer drained. */
  warning: (message: string) => void;
}

export interface DeviceClient {
  readonly deviceId: string;
  /** A snapshot of the counters. */
  readonly stats: DeviceClientStats;
  /** Queue a position for delivery. Never blocks; drops the oldest waiting one when full. */
  push(position: Position): void;
  /** Resolves true once everything pushed so far is acknowledged, false after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Subscribe to an event; returns the function that unsubscribes. */
  on<E extends keyof DeviceClientEvents>(event: E, listener: DeviceClientEvents[E]): () => void;
  /**
   * Drop the connection as a lost radio link would (no goodbye to the server). The client
   * reconnects by itself and resends what was not acknowledged. For chaos tests and flaky links.
   */
  interrupt(): void;
  /** Disconnect for good. Unacknowledged positions stay counted in `buffered`. */
  close(): void;
}

interface Entry {
  position: Position;
  /** Date.now() at push, for maxWaitMs. */
  pushedAt: number;
  sends: number;
}

export function createDeviceClient(options: DeviceClientOptions): DeviceClient {
  return new SocketDeviceClient(options);
}

class SocketDeviceClient implements DeviceClient {
  readonly deviceId: string;
  readonly #socket: Socket<DeviceServerToClient, DeviceClientToServer>;
  readonly #maxBuffered: number;
  readonly #maxBatch: number;
  readonly #ackTimeoutMs: number;
  readonly #queue = new Fifo<Entry>();
  #inFlight: Entry[] | null = null;
  /** Identifies the batch in flight, so an answer to an abandoned one is ignored. */
  #sendSeq = 0;
  /** Consecutive failed sends and failed connects, each for its own backoff. */
  #sendFailures = 0;
  #connectFailures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #overflowing = false;
  #closed = false;
  readonly #flushWaiters = new Set<(drained: boolean) => void>();
  readonly #listeners = new Map<keyof DeviceClientEvents, Set<(...args: never[]) => void>>();
  readonly #counts = {
    pushed: 0,
    sent: 0,
    resent: 0,
    acked: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    dropped: 0,
    errors: 0,
    maxWaitMs: 0,
  };

  constructor(options: DeviceClientOptions) {
    const { url, deviceId, token, ioOptions } = options;
    const { maxBuffered = 10_000, maxBatch = 500, ackTimeoutMs = 10_000 } = options;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 1) {
      throw new RangeError("maxBuffered must be a whole number ≥ 1");
    }
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH) {
      throw new RangeError(`maxBatch must be a whole number from 1 to ${MAX_BATCH}`);
    }
    if (!(ackTimeoutMs > 0)) throw new RangeError("ackTimeoutMs must be positive");
    this.deviceId = deviceId;
    this.#maxBuffered = maxBuffered;
    this.#maxBatch = maxBatch;
    this.#ackTimeoutMs = ackTimeoutMs;
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

  get stats(): DeviceClientStats {
    return {
      ...this.#counts,
      buffered: this.#queue.length,
      inFlight: this.#inFlight?.length ?? 0,
      connected: this.#socket.connected,
    };
  }

  push(position: Position): void {
    if (this.#closed) throw new Error(`device client ${this.deviceId} is closed`);
    this.#counts.pushed++;
    this.#queue.push({ position, pushedAt: Date.now(), sends: 0 });
    this.#enforceBound();
    this.#pump();
  }

  flush(timeoutMs = 10_000): Promise<boolean> {
    if (this.#idle()) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (drained: boolean) => {
        clearTimeout(timer);
        this.#flushWaiters.delete(done);
        resolve(drained);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#flushWaiters.add(done);
    });
  }

  on<E extends keyof DeviceClientEvents>(event: E, listener: DeviceClientEvents[E]): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  interrupt(): void {
    this.#socket.io.engine?.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    this.#socket.disconnect();
    this.#socket.removeAllListeners();
    for (const done of [...this.#flushWaiters]) done(false);
  }

  /** Send the next batch if connected, nothing is in flight and no retry is pending. */
  #pump(): void {
    if (this.#closed || this.#inFlight || this.#retryTimer || this.#queue.length === 0) return;
    if (!this.#socket.connected) return;
    const batch = this.#queue.take(this.#maxBatch);
    const positions: Position[] = [];
    for (const entry of batch) {
      if (entry.sends++ > 0) this.#counts.resent++;
      positions.push(entry.position);
    }
    this.#inFlight = batch;
    this.#counts.sent += batch.length;
    const seq = ++this.#sendSeq;
    this.#socket
      .timeout(this.#ackTimeoutMs)
      .emit("position:report", positions, (err, ack) => this.#onAck(seq, err, ack));
  }

  #onAck(seq: number, err: Error | null, ack: ReportAck): void {
    // A batch abandoned on disconnect (or after close) was already put back; ignore its answer.
    if (seq !== this.#sendSeq || !this.#inFlight) return;
    const batch = this.#inFlight;
    this.#inFlight = null;
    if (err) {
      this.#retryLater(batch, new DeviceClientError("ack_timeout", "no ack in time", true));
    } else if (!isReportAck(ack)) {
      // Not a Locus server, or a broken one: keep the positions and try again later.
      this.#retryLater(batch, new DeviceClientError("invalid_ack", "malformed ack", true));
    } else if (ack.ok) {
      this.#sendFailures = 0;
      this.#counts.accepted += ack.accepted;
      this.#counts.duplicates += ack.duplicates;
      this.#counts.rejected += ack.rejected.length;
      this.#settle(batch);
    } else if (RETRYABLE.has(ack.error.code)) {
      this.#retryLater(batch, new DeviceClientError(ack.error.code, ack.error.message, true));
    } else {
      // The batch itself is unacceptable; sending it again would only fail again.
      this.#counts.errors++;
      this.#counts.rejected += batch.length;
      this.#settle(batch);
      this.#emit("error", new DeviceClientError(ack.error.code, ack.error.message, false));
    }
  }

  #settle(batch: Entry[]): void {
    this.#counts.acked += batch.length;
    // FIFO: the first position of the batch has waited longest.
    const waited = Date.now() - batch[0]!.pushedAt;
    if (waited > this.#counts.maxWaitMs) this.#counts.maxWaitMs = waited;
    this.#pump();
    this.#checkDrained();
  }

  #retryLater(batch: Entry[], error: DeviceClientError): void {
    this.#counts.errors++;
    this.#requeue(batch);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#pump();
    }, backoff(++this.#sendFailures));
    this.#emit("error", error);
  }

  /** Put an unacknowledged batch back at the front, so order survives the resend. */
  #requeue(batch: Entry[]): void {
    this.#queue.unshiftAll(batch);
    this.#enforceBound();
  }

  #enforceBound(): void {
    while (this.#queue.length > this.#maxBuffered) {
      this.#queue.shift();
      this.#counts.dropped++;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#emit(
          "warning",
          `device ${this.deviceId}: buffer full (${this.#maxBuffered} positions), dropping the oldest`,
        );
      }
    }
  }

  #onConnect(): void {
    this.#connectFailures = 0;
    this.#emit("connect");
    this.#pump();
  }

  #onDisconnect(reason: string): void {
    // A report emitted just as the connection died may sit in socket.io's own buffer, which it
    // would send on reconnect on top of our resend. Ours is the one that keeps the order.
    this.#socket.sendBuffer = [];
    if (this.#inFlight) {
      this.#sendSeq++; // its ack, if any, can no longer arrive
      this.#requeue(this.#inFlight);
      this.#inFlight = null;
    }
    // socket.io reconnects by itself except when the server closed the socket on purpose
    // (e.g. a restart); a device should come back then too, just not in a tight loop.
    if (reason === "io server disconnect" && !this.#closed) this.#reconnectLater();
    this.#emit("disconnect", reason);
  }

  #onConnectError(err: Error & { data?: { code?: string; message?: string } }): void {
    this.#counts.errors++;
    // Refused by the server's handshake check: socket.io gives up, so retry ourselves, slowly.
    const refused = !this.#socket.active;
    if (refused) this.#reconnectLater();
    const message = err.data?.message ?? err.message;
    this.#emit("error", new DeviceClientError(err.data?.code ?? "connect_error", message, true));
  }

  #reconnectLater(): void {
    if (this.#reconnectTimer || this.#closed) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (!this.#closed && !this.#socket.connected) this.#socket.connect();
    }, backoff(++this.#connectFailures));
  }

  #idle(): boolean {
    return this.#queue.length === 0 && !this.#inFlight;
  }

  #checkDrained(): void {
    if (!this.#idle()) return;
    this.#overflowing = false;
    for (const done of [...this.#flushWaiters]) done(true);
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#retryTimer = this.#reconnectTimer = null;
  }

  #emit<E extends keyof DeviceClientEvents>(
    event: E,
    ...args: Parameters<DeviceClientEvents[E]>
  ): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as (...a: Parameters<DeviceClientEvents[E]>) => void)(...args);
      } catch (err) {
        // A throwing listener must not leave the client half-updated; report it like Node would.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
