import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientError,
  type DeviceClientOptions,
} from "./device-client.ts";
import type { Position } from "../protocol/index.ts";
import { stderrLogger, ThrottledLog, type FleetLogger } from "./fleet-log.ts";
import { FleetTally, type FleetStats, type FleetSummary } from "./fleet-stats.ts";
import { buildStreetNetwork, type StreetNetwork } from "./streets.ts";
import { Vehicle } from "./vehicle.ts";

/**
 * Runs a simulated fleet: one seeded vehicle and one device client per device id, all driven by
 * a single timer. Vehicle i reports at start + offset_i + k × interval, with the offsets spread
 * over the interval, so the server sees a steady stream rather than a burst every second. Fix
 * timestamps follow that schedule, not the moment the timer happened to fire, so a busy event
 * loop delays reports but never changes what they say.
 */

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
/** Rounds of fixes one late poll may generate at most. */
const CATCH_UP_ROUNDS = 5;

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
  const tally = new FleetTally(clients, count);
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

  const stats = () => tally.stats(performance.now() - t0);

  let resolveDone!: (summary: FleetSummary) => void;
  const done = new Promise<FleetSummary>((resolve) => (resolveDone = resolve));
  let stopping: Promise<FleetSummary> | null = null;

  function stop(): Promise<FleetSummary> {
    stopping ??= (async () => {
      clearInterval(poll);
      const flushed = await Promise.all(clients.map((c) => c.flush(flushTimeoutMs)));
      const summary = tally.summary(performance.now() - t0, flushed.every(Boolean));
      for (const client of clients) client.close();
      log.flushSuppressed(true);
      resolveDone(summary);
      return summary;
    })();
    return stopping;
  }

  const interrupt = (index: number) => clients[index]?.interrupt();
  return { network, vehicles, deviceIds, stats, interrupt, stop, done };
}

/**
 * The vehicle model's integration step: a divisor of the interval (so fixes land on whole ticks),
 * at most 250 ms for smooth motion, and not so small that 10,000 vehicles cost too much.
 */
function pickTickMs(intervalMs: number): number {
  for (let tick = Math.min(250, Math.floor(intervalMs)); tick >= 20; tick--) {
    if (intervalMs % tick === 0) return tick;
  }
  return Math.min(250, intervalMs);
}
