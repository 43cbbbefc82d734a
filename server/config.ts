import { parseArgs } from "node:util";

/**
 * Every setting comes from a flag, else an environment variable, else the default below.
 * The README's configuration table is generated from the same list by hand: keep them in step.
 */
export interface Config {
  port: number;
  host: string;
  db: string;
  /** How often dashboards get a batch of what changed (ms). */
  tickMs: number;
  /** A device with no report for this long is shown offline (ms). */
  offlineAfterMs: number;
  /** Speed at or above which a device counts as moving (m/s). */
  movingSpeed: number;
  /** Least a report waits for its group commit (ms); under load the wait grows with commit cost. */
  commitDelayMs: number;
  /** Rows that trigger a commit at once, without waiting for the delay. */
  commitMaxRows: number;
  /** How far in the future a fix's `ts` may be, for devices with drifting clocks (ms). */
  maxFutureMs: number;
  tileUrl: string;
  tileAttribution: string;
  trailMinutes: number;
  logLevel: string;
  /** `normal`: survives a process crash. `full`: also survives power loss (fsync per commit). */
  durability: "normal" | "full";
  /** Reports (messages, not positions) per second each device may send on average. */
  rateLimit: number;
  /** Reports a device may send in a burst above the average (e.g. a backlog after reconnecting). */
  rateBurst: number;
  /** Password of the `admin` user created on first run; random (and printed once) when empty. */
  adminPassword: string;
  /** How long a dashboard sign-in lasts (hours). */
  sessionTtlHours: number;
  /** Behind a reverse proxy: trust its X-Forwarded-* headers (client address, https). */
  trustProxy: boolean;
  /** Let devices without a token report (trusted networks only). */
  openRegistration: boolean;
  /** Comma-separated origins allowed to call the API and socket.io from a browser ("*" for any). */
  corsOrigins: string;
  /** socket.io connections allowed from one client address; 0 for no limit. */
  maxConnectionsPerIp: number;
  /** Fixes less accurate than this (metres) are stored but flagged implausible. */
  maxAccuracyM: number;
  /** A fix implying a faster jump from the previous one (m/s) is stored but flagged implausible. */
  maxImpliedSpeed: number;
  /** Build the dashboard before listening when dist/ is missing or older than web/. */
  buildIfStale: boolean;
  /** A second port taking the OsmAnd protocol on any path (phone apps' default is 5055); -1: off. */
  osmandPort: number;
  /** A stay shorter than this is not a stop (minutes). */
  stopMinutes: number;
  /** A stop is a stay within this distance of where it began (metres). */
  stopRadiusM: number;
  /** Movement between stops shorter than this is not listed as a trip (metres). */
  tripMinM: number;
  /**
   * Fixes further apart in time than this have a data gap between them (minutes): tracks break
   * instead of drawing a line across it, trips end.
   */
  gapMinutes: number;
  /** Largest file `POST /api/devices/:id/import` accepts (MB). */
  importMaxMb: number;
  /** Tracks break instead of drawing a line across a jump between two fixes longer than this (km). */
  gapKm: number;
}

type Kind = "int" | "number" | "string" | "boolean";
interface Setting {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  default: Config[keyof Config];
  min?: number;
  choices?: readonly string[];
}

export const SETTINGS: readonly Setting[] = [
  { key: "port", flag: "port", env: "PORT", kind: "int", default: 3000, min: 0 },
  { key: "host", flag: "host", env: "LOCUS_HOST", kind: "string", default: "0.0.0.0" },
  { key: "db", flag: "db", env: "LOCUS_DB", kind: "string", default: "./data/locus.db" },
  { key: "tickMs", flag: "tick-ms", env: "LOCUS_TICK_MS", kind: "int", default: 100, min: 10 },
  {
    key: "offlineAfterMs",
    flag: "offline-after-ms",
    env: "LOCUS_OFFLINE_AFTER_MS",
    kind: "int",
    default: 300_000,
    min: 1000,
  },
  {
    key: "movingSpeed",
    flag: "moving-speed",
    env: "LOCUS_MOVING_SPEED",
    kind: "number",
    default: 1,
    min: 0,
  },
  {
    key: "commitDelayMs",
    flag: "commit-delay-ms",
    env: "LOCUS_COMMIT_DELAY_MS",
    kind: "int",
    default: 5,
    min: 0,
  },
  {
    key: "commitMaxRows",
    flag: "commit-max-rows",
    env: "LOCUS_COMMIT_MAX_ROWS",
    kind: "int",
    default: 5000,
    min: 1,
  },
  {
    key: "maxFutureMs",
    flag: "max-future-ms",
    env: "LOCUS_MAX_FUTURE_MS",
    kind: "int",
    default: 600_000,
    min: 0,
  },
  {
    key: "tileUrl",
    flag: "tile-url",
    env: "LOCUS_TILE_URL",
    kind: "string",
    default: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
  },
  {
    key: "tileAttribution",
    flag: "tile-attribution",
    env: "LOCUS_TILE_ATTRIBUTION",
    kind: "string",
    default:
      '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
  },
  {
    key: "trailMinutes",
    flag: "trail-minutes",
    env: "LOCUS_TRAIL_MINUTES",
    kind: "int",
    default: 15,
    min: 1,
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "LOCUS_LOG_LEVEL",
    kind: "string",
    default: "info",
    choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
  },
  {
    key: "durability",
    flag: "durability",
    env: "LOCUS_DURABILITY",
    kind: "string",
    default: "normal",
    choices: ["normal", "full"],
  },
  {
    key: "rateLimit",
    flag: "rate-limit",
    env: "LOCUS_RATE_LIMIT",
    kind: "number",
    default: 20,
    min: 0.01,
  },
  {
    key: "rateBurst",
    flag: "rate-burst",
    env: "LOCUS_RATE_BURST",
    kind: "int",
    default: 60,
    min: 1,
  },
  {
    key: "adminPassword",
    flag: "admin-password",
    env: "LOCUS_ADMIN_PASSWORD",
    kind: "string",
    default: "",
  },
  {
    key: "sessionTtlHours",
    flag: "session-ttl-hours",
    env: "LOCUS_SESSION_TTL_HOURS",
    kind: "number",
    default: 168,
    min: 0.01,
  },
  {
    key: "trustProxy",
    flag: "trust-proxy",
    env: "LOCUS_TRUST_PROXY",
    kind: "boolean",
    default: false,
  },
  {
    key: "openRegistration",
    flag: "open-registration",
    env: "LOCUS_OPEN_REGISTRATION",
    kind: "boolean",
    default: false,
  },
  {
    key: "corsOrigins",
    flag: "cors-origins",
    env: "LOCUS_CORS_ORIGINS",
    kind: "string",
    default: "",
  },
  {
    key: "maxConnectionsPerIp",
    flag: "max-connections-per-ip",
    env: "LOCUS_MAX_CONNECTIONS_PER_IP",
    kind: "int",
    default: 10_000,
    min: 0,
  },
  {
    key: "maxAccuracyM",
    flag: "max-accuracy-m",
    env: "LOCUS_MAX_ACCURACY_M",
    kind: "number",
    default: 1000,
    min: 0,
  },
  {
    key: "maxImpliedSpeed",
    flag: "max-implied-speed",
    env: "LOCUS_MAX_IMPLIED_SPEED",
    kind: "number",
    default: 100,
    min: 0,
  },
  {
    key: "osmandPort",
    flag: "osmand-port",
    env: "LOCUS_OSMAND_PORT",
    kind: "int",
    default: -1,
    min: -1,
  },
  {
    key: "buildIfStale",
    flag: "build-if-stale",
    env: "LOCUS_BUILD_IF_STALE",
    kind: "boolean",
    default: false,
  },
  {
    key: "stopMinutes",
    flag: "stop-minutes",
    env: "LOCUS_STOP_MINUTES",
    kind: "number",
    default: 3,
    min: 0,
  },
  {
    key: "stopRadiusM",
    flag: "stop-radius-m",
    env: "LOCUS_STOP_RADIUS_M",
    kind: "number",
    default: 200,
    min: 1,
  },
  {
    key: "tripMinM",
    flag: "trip-min-m",
    env: "LOCUS_TRIP_MIN_M",
    kind: "number",
    default: 200,
    min: 0,
  },
  {
    key: "gapMinutes",
    flag: "gap-minutes",
    env: "LOCUS_GAP_MINUTES",
    kind: "number",
    default: 5,
    min: 0.01,
  },
  {
    key: "importMaxMb",
    flag: "import-max-mb",
    env: "LOCUS_IMPORT_MAX_MB",
    kind: "number",
    default: 200,
    min: 0.001,
  },
  { key: "gapKm", flag: "gap-km", env: "LOCUS_GAP_KM", kind: "number", default: 5, min: 0.001 },
];

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze(
  Object.fromEntries(SETTINGS.map((s) => [s.key, s.default])) as unknown as Config,
);

export class ConfigError extends Error {}

function convert(setting: Setting, raw: string | boolean, source: string): Config[keyof Config] {
  if (setting.kind === "boolean") {
    if (typeof raw === "boolean") return raw;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${source} must be true or false, got "${raw}"`);
  }
  if (setting.kind === "string") {
    const value = String(raw);
    if (setting.choices && !setting.choices.includes(value)) {
      throw new ConfigError(
        `${source} must be one of ${setting.choices.join(", ")}, got "${value}"`,
      );
    }
    return value;
  }
  const value = Number(raw);
  const ok = setting.kind === "int" ? Number.isInteger(value) : Number.isFinite(value);
  if (String(raw).trim() === "" || !ok) {
    throw new ConfigError(
      `${source} must be ${setting.kind === "int" ? "an integer" : "a number"}, got "${raw}"`,
    );
  }
  if (setting.min !== undefined && value < setting.min) {
    throw new ConfigError(`${source} must be ≥ ${setting.min}, got ${value}`);
  }
  return value;
}

/** Flags win over the environment, which wins over defaults. Unknown flags are an error. */
export function loadConfig(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Config> = {},
): Readonly<Config> {
  const options = Object.fromEntries(
    SETTINGS.map((s) => [s.flag, { type: s.kind === "boolean" ? "boolean" : "string" } as const]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const s of SETTINGS) {
    const flagValue = values[s.flag];
    const envValue = env[s.env];
    if (flagValue !== undefined) config[s.key] = convert(s, flagValue, `--${s.flag}`);
    else if (envValue !== undefined && envValue !== "") config[s.key] = convert(s, envValue, s.env);
  }
  return Object.freeze({ ...(config as unknown as Config), ...overrides });
}
