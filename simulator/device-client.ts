import type { ManagerOptions, SocketOptions } from "socket.io-client";
import { MAX_BATCH, type Position, type ReportAck } from "../protocol/index.ts";
import { DeliveryQueue } from "./delivery-queue.ts";
import { DeviceLink } from "./device-link.ts";
import { Listeners } from "./listeners.ts";
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

export function createDeviceClient(options: DeviceClientOptions): DeviceClient {
  return new SocketDeviceClient(options);
}

/**
 * Paces delivery: what to send and when (delivery-queue.ts keeps the positions, device-link.ts
 * the connection), what each answer means, and when to try again.
 */
class SocketDeviceClient implements DeviceClient {
  readonly deviceId: string;
  readonly #maxBatch: number;
  readonly #ackTimeoutMs: number;
  readonly #delivery: DeliveryQueue;
  readonly #link: DeviceLink;
  /** Identifies the batch in flight, so an answer to an abandoned one is ignored. */
  #sendSeq = 0;
  /** Consecutive failed sends, for the retry backoff. */
  #sendFailures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #flushWaiters = new Set<(drained: boolean) => void>();
  readonly #listeners = new Listeners<DeviceClientEvents>();
  /** What the server answered, in positions, and every kind of trouble. */
  readonly #answers = { accepted: 0, duplicates: 0, rejected: 0, errors: 0 };

  constructor(options: DeviceClientOptions) {
    const { deviceId } = options;
    const { maxBuffered = 10_000, maxBatch = 500, ackTimeoutMs = 10_000 } = options;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 1) {
      throw new RangeError("maxBuffered must be a whole number ≥ 1");
    }
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH) {
      throw new RangeError(`maxBatch must be a whole number from 1 to ${MAX_BATCH}`);
    }
    if (!(ackTimeoutMs > 0)) throw new RangeError("ackTimeoutMs must be positive");
    this.deviceId = deviceId;
    this.#maxBatch = maxBatch;
    this.#ackTimeoutMs = ackTimeoutMs;
    this.#delivery = new DeliveryQueue(maxBuffered, () =>
      this.#listeners.emit(
        "warning",
        `device ${deviceId}: buffer full (${maxBuffered} positions), dropping the oldest`,
      ),
    );
    this.#link = new DeviceLink(options, {
      connect: () => this.#onConnect(),
      disconnect: (reason) => this.#onDisconnect(reason),
      connectError: (code, message) => {
        this.#answers.errors++;
        this.#listeners.emit("error", new DeviceClientError(code, message, true));
      },
    });
  }

  get stats(): DeviceClientStats {
    const { counts, buffered, inFlight } = this.#delivery;
    return { ...counts, ...this.#answers, buffered, inFlight, connected: this.#link.connected };
  }

  push(position: Position): void {
    if (this.#closed) throw new Error(`device client ${this.deviceId} is closed`);
    this.#delivery.push(position);
    this.#pump();
  }

  flush(timeoutMs = 10_000): Promise<boolean> {
    if (this.#delivery.idle) return Promise.resolve(true);
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
    return this.#listeners.on(event, listener);
  }

  interrupt(): void {
    this.#link.interrupt();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#link.close();
    for (const done of [...this.#flushWaiters]) done(false);
  }

  /** Send the next batch if connected, nothing is in flight and no retry is pending. */
  #pump(): void {
    if (this.#closed || this.#retryTimer || !this.#link.connected) return;
    const positions = this.#delivery.send(this.#maxBatch);
    if (!positions) return;
    const seq = ++this.#sendSeq;
    this.#link.report(positions, this.#ackTimeoutMs, (err, ack) => this.#onAck(seq, err, ack));
  }

  #onAck(seq: number, err: Error | null, ack: ReportAck): void {
    // A batch abandoned on disconnect (or after close) was already put back; ignore its answer.
    if (seq !== this.#sendSeq || this.#delivery.inFlight === 0) return;
    if (err) {
      this.#retryLater(new DeviceClientError("ack_timeout", "no ack in time", true));
    } else if (!isReportAck(ack)) {
      // Not a Locus server, or a broken one: keep the positions and try again later.
      this.#retryLater(new DeviceClientError("invalid_ack", "malformed ack", true));
    } else if (ack.ok) {
      this.#sendFailures = 0;
      this.#answers.accepted += ack.accepted;
      this.#answers.duplicates += ack.duplicates;
      this.#answers.rejected += ack.rejected.length;
      this.#settle();
    } else if (RETRYABLE.has(ack.error.code)) {
      this.#retryLater(new DeviceClientError(ack.error.code, ack.error.message, true));
    } else {
      // The batch itself is unacceptable; sending it again would only fail again.
      this.#answers.errors++;
      this.#answers.rejected += this.#delivery.inFlight;
      this.#settle();
      this.#listeners.emit(
        "error",
        new DeviceClientError(ack.error.code, ack.error.message, false),
      );
    }
  }

  #settle(): void {
    this.#delivery.settle();
    this.#pump();
    if (this.#delivery.idle) for (const done of [...this.#flushWaiters]) done(true);
  }

  #retryLater(error: DeviceClientError): void {
    this.#answers.errors++;
    this.#delivery.putBack();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#pump();
    }, backoff(++this.#sendFailures));
    this.#listeners.emit("error", error);
  }

  #onConnect(): void {
    this.#listeners.emit("connect");
    this.#pump();
  }

  #onDisconnect(reason: string): void {
    if (this.#delivery.inFlight > 0) {
      this.#sendSeq++; // its ack, if any, can no longer arrive
      this.#delivery.putBack();
    }
    this.#listeners.emit("disconnect", reason);
  }
}
