import type { Position } from "../protocol/index.ts";
import { Random } from "./random.ts";
import { buildStreetNetwork, type StreetNetwork } from "./streets.ts";
import { Vehicle } from "./vehicle.ts";

/**
 * Long tracks for history tests and benchmarks: one vehicle over days or a year, deterministic
 * from a seed. It drives the simulator's street model in the daytime and stands parked (still
 * reporting, with GPS jitter) at night; now and then the tracker is off for hours (a time gap);
 * every few weeks it reappears in another city, a jump of tens to hundreds of km with the tracker
 * off on the way (a gap in time and space).
 */
export interface HistoryTrackOptions {
  seed: number;
  /** Epoch ms of the first fix; days run from here. */
  startTs: number;
  days: number;
  /** ms between fixes (1000: 1 Hz). */
  intervalMs?: number;
  /** Local hours the vehicle drives, [from, to). */
  driveHours?: [number, number];
  /** Chance per day that the tracker is off for 1–6 hours. */
  offChance?: number;
  /** Days spent in one city before moving to the next. */
  daysPerCity?: number;
}

const STREAM_HISTORY = 41; // its own random stream, apart from the simulator's
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Cities the vehicle moves between, far enough apart to be a gap in space. */
const CITIES = [
  { lat: 52.52, lon: 13.405 },
  { lat: 53.551, lon: 9.993 },
  { lat: 51.34, lon: 12.375 },
  { lat: 54.089, lon: 12.14 },
  { lat: 52.375, lon: 9.732 },
];

export function* historyTrack(options: HistoryTrackOptions): Generator<Position> {
  const {
    seed,
    startTs,
    days,
    intervalMs = 1000,
    driveHours = [7, 19],
    offChance = 0.05,
    daysPerCity = 30,
  } = options;
  const rng = new Random(seed, STREAM_HISTORY);
  const networks = new Map<number, StreetNetwork>();
  let vehicle: Vehicle | null = null;
  let city = -1;
  for (let day = 0; day < days; day++) {
    const dayStart = startTs + day * DAY_MS;
    const cityNow = Math.floor(day / daysPerCity) % CITIES.length;
    if (cityNow !== city || !vehicle) {
      city = cityNow;
      let network = networks.get(city);
      if (!network) {
        network = buildStreetNetwork({ center: CITIES[city]!, seed: seed + city });
        networks.set(city, network);
      }
      vehicle = new Vehicle({ network, seed, index: day, startTs: dayStart, tickMs: intervalMs });
    }
    // A move to the next city happens with the tracker off from midnight to 6:00.
    const moving = day > 0 && day % daysPerCity === 0;
    const off = rng.chance(offChance) ? rng.range(0, 22) * HOUR_MS : -1;
    const offUntil = off + rng.range(1, 6) * HOUR_MS;
    for (let t = 0; t < DAY_MS; t += intervalMs) {
      if (moving && t < 6 * HOUR_MS) continue;
      if (off >= 0 && t >= off && t < offUntil) continue;
      const hour = t / HOUR_MS;
      const driving = hour >= driveHours[0] && hour < driveHours[1];
      if (driving) vehicle.step(intervalMs);
      const fix = vehicle.fix(dayStart + t);
      if (!driving) fix.speed = 0;
      yield fix;
    }
  }
}
