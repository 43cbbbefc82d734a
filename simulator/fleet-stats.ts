import type { DeviceClient } from "./device-client.ts";

/** What the fleet runner reports while it runs and when it stops: its device clients added up. */

export interface FleetStats {
  vehicles: number;
  /** Devices whose client exists (they start staggered over the first interval). */
  started: number;
  connected: number;
  /** Positions emitted per second (resends included) and acknowledged per second, recently. */
  sentPerSec: number;
  ackedPerSec: number;
  pushed: number;
  sent: number;
  acked: number;
  duplicates: number;
  rejected: number;
  dropped: number;
  buffered: number;
  inFlight: number;
  errors: number;
  maxWaitMs: number;
  elapsedMs: number;
}

export interface FleetSummary {
  vehicles: number;
  durationMs: number;
  /** Positions generated. */
  pushed: number;
  sent: number;
  acked: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  dropped: number;
  /** Positions still unacknowledged when the clients closed. */
  unacked: number;
  errors: number;
  maxWaitMs: number;
  /** Whether every position was acknowledged before closing. */
  flushed: boolean;
}

const RATE_WINDOW_MS = 5_000;

/** Reads the fleet's list of clients as it grows (vehicles start staggered). */
export class FleetTally {
  readonly #clients: readonly DeviceClient[];
  readonly #vehicles: number;
  readonly #samples: { t: number; sent: number; acked: number }[] = [];

  constructor(clients: readonly DeviceClient[], vehicles: number) {
    this.#clients = clients;
    this.#vehicles = vehicles;
  }

  stats(elapsedMs: number): FleetStats {
    const t = totals(this.#clients);
    const s: FleetStats = {
      vehicles: this.#vehicles,
      started: this.#clients.length,
      connected: t.connected,
      sentPerSec: 0,
      ackedPerSec: 0,
      pushed: t.pushed,
      sent: t.sent,
      acked: t.acked,
      duplicates: t.duplicates,
      rejected: t.rejected,
      dropped: t.dropped,
      buffered: t.buffered,
      inFlight: t.inFlight,
      errors: t.errors,
      maxWaitMs: t.maxWaitMs,
      elapsedMs,
    };
    // Rates over the last few seconds of calls (or since the start), so they settle quickly.
    const samples = this.#samples;
    const now = { t: s.elapsedMs, sent: s.sent, acked: s.acked };
    while (samples.length > 1 && now.t - samples[1]!.t >= RATE_WINDOW_MS) samples.shift();
    const base = samples[0] ?? { t: 0, sent: 0, acked: 0 };
    const span = (now.t - base.t) / 1000;
    if (span > 0) {
      s.sentPerSec = (now.sent - base.sent) / span;
      s.ackedPerSec = (now.acked - base.acked) / span;
    }
    samples.push(now);
    return s;
  }

  summary(durationMs: number, flushed: boolean): FleetSummary {
    const t = totals(this.#clients);
    return {
      vehicles: this.#vehicles,
      durationMs,
      pushed: t.pushed,
      sent: t.sent,
      acked: t.acked,
      accepted: t.accepted,
      duplicates: t.duplicates,
      rejected: t.rejected,
      dropped: t.dropped,
      unacked: t.buffered + t.inFlight,
      errors: t.errors,
      maxWaitMs: t.maxWaitMs,
      flushed,
    };
  }
}

/** Every client's counters added up (maxWaitMs: the longest), plus how many are connected. */
function totals(clients: readonly DeviceClient[]) {
  const t = {
    connected: 0,
    pushed: 0,
    sent: 0,
    acked: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    dropped: 0,
    buffered: 0,
    inFlight: 0,
    errors: 0,
    maxWaitMs: 0,
  };
  for (const client of clients) {
    const c = client.stats;
    if (c.connected) t.connected++;
    t.pushed += c.pushed;
    t.sent += c.sent;
    t.acked += c.acked;
    t.accepted += c.accepted;
    t.duplicates += c.duplicates;
    t.rejected += c.rejected;
    t.dropped += c.dropped;
    t.buffered += c.buffered;
    t.inFlight += c.inFlight;
    t.errors += c.errors;
    t.maxWaitMs = Math.max(t.maxWaitMs, c.maxWaitMs);
  }
  return t;
}
