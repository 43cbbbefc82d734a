import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientError,
  type DeviceClientOptions,
} from "./device-client.ts";
import type { Position } from "../protocol/index.ts";
import { buildStreetNetwork, type StreetNetwork } from "./streets.ts";
import { Vehicle } from "./vehicle.ts";

/**
 * Runs a simulated fleet: one seeded vehicle and one device client per device id, all driven by
 * a single timer. Vehicle i reports at start + offset_i + k × interval, with the offsets spread
 * over the interval, so the server sees a steady stream rather than a burst every second. Fix
 * timestamps follow that schedule, not the moment the timer happened to fire, so a busy event
 * loop delays reports but never changes what they say.
 */

/** Structural, so a pino logger or `console` fits. */
export interface FleetLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface FleetOptions {
  /** Server base URL, e.g. `http://localhost:3000`. */
  url: string;
  vehicles: number;
  /** Report interval per vehicle, ms. */
  intervalMs?: number;
  seed?: number;
  center?: { lat: number; lon: number };
  /** Device ids are `${prefix}0001`, `${prefix}0002`, … */
  prefix?: string;
  /** Stop by itself after this long; `done` resolves then. Unset: run until stop(). */
  durationMs?: number;
  /** Token for a device id, if the server wants one. */
  token?: (deviceId: string) => string | undefined;
  /** Default: warnings and errors on stderr, throttled; nothing else. */
  logger?: FleetLogger;
  /** Extra device client options (buffer size, ack timeout, socket.io options). */
  client?: Partial<Omit<DeviceClientOptions, "url" | "deviceId" | "token">>;
  /** How long stop() waits for unacknowledged positions before closing. */
  flushTimeoutMs?: number;
  /** Called with every generated fix, before it is queued: the simulator's ground-truth log. */
  onFix?: (deviceId: string, fix: Position) => void;
}

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

export interface Fleet {
  readonly network: StreetNetwork;
  /** The ground truth, indexed like the device ids minus one. */
  readonly vehicles: readonly Vehicle[];
  readonly deviceIds: readonly string[];
  stats(): FleetStats;
  /** Drop vehicle `index`'s link as a dead zone would; it reconnects and resends by itself. */
  interrupt(index: number): void;
  /** Stop reporting, give unacknowledged positions a moment (flushTimeoutMs), then disconnect. */
  stop(): Promise<FleetSummary>;
  /** Resolves when the fleet stops, by stop() or at the end of durationMs. */
  readonly done: Promise<FleetSummary>;
}

const DEFAULT_CENTER = { lat: 52.52, lon: 13.405 };
const RATE_WINDOW_MS = 5_000;
const LOG_WINDOW_MS = 10_000;

export function deviceIdFor(prefix: string, index: number): string {
  return `${prefix}${String(index).padStart(4, "0")}`;
}

export function startFleet(options: FleetOptions): Fleet {
  const {
    url,
    vehicles: count,
    intervalMs = 1000,
    seed = 1,
    center = DEFAULT_CENTER,
    prefix = "sim-",
    durationMs,
    token,
    logger = stderrLogger,
    client: clientOptions,
    flushTimeoutMs = 5_000,
    onFix,
  } = options;
  if (!Number.isInteger(count) || count < 0) throw new RangeError("vehicles must be ≥ 0");
  if (!(intervalMs > 0)) throw new RangeError("intervalMs must be positive");

  const network = buildStreetNetwork({ center, seed });
  const startTs = Date.now();
  const t0 = performance.now();
  const tickMs = pickTickMs(intervalMs);
  const offsets = Array.from({ length: count }, (_, i) => Math.floor((i * intervalMs) / count));
  const deviceIds = offsets.map((_, i) => deviceIdFor(prefix, i + 1));
  const vehicles = offsets.map(
    (offset, i) => new Vehicle({ network, seed, index: i + 1, startTs: startTs + offset, tickMs }),
  );
  const clients: DeviceClient[] = [];
  const log = new ThrottledLog(logger);

  // Round-robin cursor: offsets grow with the index, so due times are in cursor order.
  let cursor = 0;
  let round = 0;
  const poll = setInterval(tick, Math.min(50, Math.max(5, intervalMs / 20)));
  logger.info(`fleet: ${count} vehicles reporting every ${intervalMs} ms to ${url}`);

  function tick(): void {
    const elapsed = performance.now() - t0;
    // A process busy with thousands of sockets can run its timers only every second or two
    // (libuv keeps polling while sockets stay readable), so one tick may owe several rounds.
    // Capped, so that after a real stall (a suspended laptop) the loop still gets to send.
    for (let budget = Math.max(CATCH_UP_ROUNDS * count, 1); budget > 0 && count > 0; budget--) {
      const due = round * intervalMs + offsets[cursor]!;
      if (due > elapsed) break;
      if (durationMs !== undefined && due >= durationMs) {
        void stop();
        return;
      }
      report(cursor, due);
      if (++cursor === count) {
        cursor = 0;
        round++;
      }
    }
    if (count === 0 && durationMs !== undefined && elapsed >= durationMs) void stop();
    log.flushSuppressed();
  }

  function report(i: number, due: number): void {
    const vehicle = vehicles[i]!;
    let client = clients[i];
    if (!client) {
      client = clients[i] = connect(deviceIds[i]!);
    } else {
      vehicle.step(intervalMs);
    }
    const fix = vehicle.fix(startTs + due);
    onFix?.(deviceIds[i]!, fix);
    client.push(fix);
  }

  function connect(deviceId: string): DeviceClient {
    const client = createDeviceClient({
      ...clientOptions,
      url,
      deviceId,
      token: token?.(deviceId),
    });
    client.on("error", (err: DeviceClientError) => {
      log.write(
        err.retrying ? "warn" : "error",
        err.code,
        `${deviceId}: ${err.code}: ${err.message}`,
      );
    });
    client.on("warning", (message) => log.write("warn", "overflow", message));
    return client;
  }

  const samples: { t: number; sent: number; acked: number }[] = [];

  function stats(): FleetStats {
    const t = totals(clients);
    const s: FleetStats = {
      vehicles: count,
      started: clients.length,
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
      elapsedMs: performance.now() - t0,
    };
    // Rates over the last few seconds of calls (or since the start), so they settle quickly.
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

  let resolveDone!: (summary: FleetSummary) => void;
  const done = new Promise<FleetSummary>((resolve) => (resolveDone = resolve));
  let stopping: Promise<FleetSummary> | null = null;

  function stop(): Promise<FleetSummary> {
    stopping ??= (async () => {
      clearInterval(poll);
      const flushed = await Promise.all(clients.map((c) => c.flush(flushTimeoutMs)));
      const summary = summarize(flushed.every(Boolean));
      for (const client of clients) client.close();
      log.flushSuppressed(true);
      resolveDone(summary);
      return summary;
    })();
    return stopping;
  }

  function summarize(flushed: boolean): FleetSummary {
    const t = totals(clients);
    return {
      vehicles: count,
      durationMs: performance.now() - t0,
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

  const interrupt = (index: number) => clients[index]?.interrupt();
  return { network, vehicles, deviceIds, stats, interrupt, stop, done };
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

/**
 * The vehicle model's integration step: a divisor of the interval (so fixes land on whole ticks),
 * at most 250 ms for smooth motion, and not so small that 10,000 vehicles cost too much.
 */
/** Rounds of fixes one late poll may generate at most. */
const CATCH_UP_ROUNDS = 5;

function pickTickMs(intervalMs: number): number {
  for (let tick = Math.min(250, Math.floor(intervalMs)); tick >= 20; tick--) {
    if (intervalMs % tick === 0) return tick;
  }
  return Math.min(250, intervalMs);
}

const stderrLogger: FleetLogger = {
  info: () => {},
  warn: (message) => console.warn(`[fleet] ${message}`),
  error: (message) => console.error(`[fleet] ${message}`),
};

/**
 * When a server goes away, thousands of devices fail the same way at once. Log the first of each
 * kind, then count the rest and summarise them every ten seconds.
 */
class ThrottledLog {
  readonly #logger: FleetLogger;
  readonly #suppressed = new Map<string, { level: "warn" | "error"; count: number }>();
  readonly #lastLogged = new Map<string, number>();
  #windowStart = performance.now();

  constructor(logger: FleetLogger) {
    this.#logger = logger;
  }

  write(level: "warn" | "error", kind: string, message: string): void {
    const last = this.#lastLogged.get(kind);
    const now = performance.now();
    if (last === undefined || now - last >= LOG_WINDOW_MS) {
      this.#lastLogged.set(kind, now);
      this.#logger[level](message);
      return;
    }
    const entry = this.#suppressed.get(kind);
    if (entry) entry.count++;
    else this.#suppressed.set(kind, { level, count: 1 });
  }

  /** Summarise what was held back, at most once per window unless `force`. */
  flushSuppressed(force = false): void {
    const now = performance.now();
    if (!force && now - this.#windowStart < LOG_WINDOW_MS) return;
    this.#windowStart = now;
    for (const [kind, { level, count }] of this.#suppressed) {
      this.#logger[level](`${count} more "${kind}" reports in the last ${LOG_WINDOW_MS / 1000} s`);
    }
    this.#suppressed.clear();
  }
}
