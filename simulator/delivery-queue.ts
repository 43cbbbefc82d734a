import type { Position } from "../protocol/index.ts";
import { Fifo } from "./fifo.ts";

/**
 * The device client's ledger of positions not yet acknowledged: those waiting, oldest first, and
 * the one batch in flight. It holds no socket and no timer; the client decides when to send and
 * what an answer means, and this keeps order and bounds memory whatever it decides.
 */

interface Entry {
  position: Position;
  /** Date.now() at push, for maxWaitMs. */
  pushedAt: number;
  sends: number;
}

/** The ledger's share of the client's stats (see DeviceClientStats for each one's meaning). */
export interface DeliveryCounts {
  pushed: number;
  sent: number;
  resent: number;
  acked: number;
  dropped: number;
  maxWaitMs: number;
}

export class DeliveryQueue {
  readonly counts: DeliveryCounts = {
    pushed: 0,
    sent: 0,
    resent: 0,
    acked: 0,
    dropped: 0,
    maxWaitMs: 0,
  };
  readonly #maxBuffered: number;
  readonly #onOverflow: () => void;
  readonly #waiting = new Fifo<Entry>();
  #inFlight: Entry[] | null = null;
  #overflowing = false;

  /**
   * `onOverflow` is called when dropping starts, and again only after the ledger drained: a fleet
   * that lost its server would otherwise warn once per position.
   */
  constructor(maxBuffered: number, onOverflow: () => void) {
    this.#maxBuffered = maxBuffered;
    this.#onOverflow = onOverflow;
  }

  /** Positions waiting to be sent (the batch in flight not included). */
  get buffered(): number {
    return this.#waiting.length;
  }

  /** Positions sent and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight?.length ?? 0;
  }

  /** Nothing waiting and nothing in flight: everything pushed so far is acknowledged. */
  get idle(): boolean {
    return this.#waiting.length === 0 && !this.#inFlight;
  }

  /** Queue a position; when the waiting part is full, the oldest waiting one is dropped. */
  push(position: Position): void {
    this.counts.pushed++;
    this.#waiting.push({ position, pushedAt: Date.now(), sends: 0 });
    this.#enforceBound();
  }

  /**
   * Take up to `max` of the oldest waiting positions as the batch in flight. Null while a batch is
   * already in flight (one at a time keeps delivery in order) or when nothing waits.
   */
  send(max: number): Position[] | null {
    if (this.#inFlight || this.#waiting.length === 0) return null;
    const batch = this.#waiting.take(max);
    const positions: Position[] = [];
    for (const entry of batch) {
      if (entry.sends++ > 0) this.counts.resent++;
      positions.push(entry.position);
    }
    this.#inFlight = batch;
    this.counts.sent += batch.length;
    return positions;
  }

  /** The batch in flight got its final answer (stored or refused for good). Returns its size. */
  settle(): number {
    const batch = this.#inFlight;
    if (!batch) return 0;
    this.#inFlight = null;
    this.counts.acked += batch.length;
    // FIFO: the first position of the batch has waited longest.
    const waited = Date.now() - batch[0]!.pushedAt;
    if (waited > this.counts.maxWaitMs) this.counts.maxWaitMs = waited;
    if (this.idle) this.#overflowing = false;
    return batch.length;
  }

  /**
   * The batch in flight got no usable answer (timeout, disconnect, a retryable error): put it back
   * at the front, so order survives the resend.
   */
  putBack(): void {
    if (!this.#inFlight) return;
    this.#waiting.unshiftAll(this.#inFlight);
    this.#inFlight = null;
    this.#enforceBound();
  }

  #enforceBound(): void {
    while (this.#waiting.length > this.#maxBuffered) {
      this.#waiting.shift();
      this.counts.dropped++;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#onOverflow();
      }
    }
  }
}
