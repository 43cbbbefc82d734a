import { describe, expect, it } from "vitest";
import {
  configSchema,
  ConfigError,
  DEFAULT_CONFIG,
  loadConfig,
  SETTINGS,
} from "../../server/config.ts";

describe("loadConfig", () => {
  it("uses the embedded defaults when nothing is set", () => {
    const config = loadConfig([], {});
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).toEqual(configSchema.parse({}));
    expect(config).toMatchObject({ port: 3000, db: "./data/locus.db", durability: "normal" });
  });

  it("takes a flag over the environment, and the environment over the default", () => {
    const env = { PORT: "4000", LOCUS_DB: "/env.db", LOCUS_TICK_MS: "80" };
    const config = loadConfig(["--port", "5000", "--tick-ms=60"], env);
    expect(config).toMatchObject({ port: 5000, db: "/env.db", tickMs: 60 });
    expect(loadConfig([], env)).toMatchObject({ port: 4000, tickMs: 80, host: "0.0.0.0" });
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig([], { PORT: "", LOCUS_LOG_LEVEL: "" })).toMatchObject({
      port: 3000,
      logLevel: "info",
    });
  });

  it("reads booleans from flags and environment, the flag winning", () => {
    expect(loadConfig(["--build-if-stale"], {}).buildIfStale).toBe(true);
    expect(loadConfig([], { LOCUS_BUILD_IF_STALE: "yes" }).buildIfStale).toBe(true);
    expect(loadConfig([], { LOCUS_TRUST_PROXY: "off" }).trustProxy).toBe(false);
    expect(loadConfig(["--trust-proxy"], { LOCUS_TRUST_PROXY: "0" }).trustProxy).toBe(true);
  });

  it("reads numbers and choices", () => {
    const config = loadConfig(["--moving-speed", "0.5", "--durability", "full"], {
      LOCUS_LOG_LEVEL: "silent",
      LOCUS_OSMAND_PORT: "5055",
    });
    expect(config).toMatchObject({
      movingSpeed: 0.5,
      durability: "full",
      logLevel: "silent",
      osmandPort: 5055,
    });
  });

  it("applies overrides last, as given", () => {
    const config = loadConfig(["--port", "5000"], { LOCUS_HOST: "::" }, { port: 0 });
    expect(config).toMatchObject({ port: 0, host: "::" });
  });

  it.each([
    [["--port", "http"], {}, '--port must be an integer ≥ 0, got "http"'],
    [[], { PORT: "-1" }, 'PORT must be an integer ≥ 0, got "-1"'],
    [["--port="], {}, '--port must be an integer ≥ 0, got ""'],
    [["--port", "80.5"], {}, '--port must be an integer ≥ 0, got "80.5"'],
    [["--tick-ms", "5"], {}, '--tick-ms must be an integer ≥ 10, got "5"'],
    [["--moving-speed", "fast"], {}, '--moving-speed must be a number ≥ 0, got "fast"'],
    [[], { LOCUS_RATE_LIMIT: "Infinity" }, 'LOCUS_RATE_LIMIT must be a number ≥ 0.01, got "Inf'],
    [[], { LOCUS_BUILD_IF_STALE: "maybe" }, 'LOCUS_BUILD_IF_STALE must be true or false, got "m'],
    [["--durability", "fsync"], {}, '--durability must be one of normal, full, got "fsync"'],
    [["--colour", "red"], {}, "unknown flag --colour"],
    [["serve"], {}, "serve"],
  ])("fails on %j %j, naming the setting and its rule", (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });

  it("reports a bad flag even when the environment holds a good value, and vice versa", () => {
    expect(() => loadConfig(["--port", "x"], { PORT: "1" })).toThrow(/^--port must/);
    // The flag wins, so a bad variable behind it is never read.
    expect(loadConfig(["--port", "1"], { PORT: "x" }).port).toBe(1);
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(loadConfig([], {}))).toBe(true);
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
  });
});

describe("setting names", () => {
  // Operators, scripts and the README use these: a rename is a breaking change, not a refactor.
  it("keeps every flag and environment variable name", () => {
    expect(SETTINGS.map((s) => `--${s.flag} ${s.env}`)).toEqual([
      "--port PORT",
      "--host LOCUS_HOST",
      "--db LOCUS_DB",
      "--tick-ms LOCUS_TICK_MS",
      "--offline-after-ms LOCUS_OFFLINE_AFTER_MS",
      "--moving-speed LOCUS_MOVING_SPEED",
      "--commit-delay-ms LOCUS_COMMIT_DELAY_MS",
      "--commit-max-rows LOCUS_COMMIT_MAX_ROWS",
      "--max-future-ms LOCUS_MAX_FUTURE_MS",
      "--tile-url LOCUS_TILE_URL",
      "--tile-attribution LOCUS_TILE_ATTRIBUTION",
      "--trail-minutes LOCUS_TRAIL_MINUTES",
      "--log-level LOCUS_LOG_LEVEL",
      "--build-if-stale LOCUS_BUILD_IF_STALE",
      "--durability LOCUS_DURABILITY",
      "--rate-limit LOCUS_RATE_LIMIT",
      "--rate-burst LOCUS_RATE_BURST",
      "--max-accuracy-m LOCUS_MAX_ACCURACY_M",
      "--max-implied-speed LOCUS_MAX_IMPLIED_SPEED",
      "--admin-password LOCUS_ADMIN_PASSWORD",
      "--session-ttl-hours LOCUS_SESSION_TTL_HOURS",
      "--trust-proxy LOCUS_TRUST_PROXY",
      "--open-registration LOCUS_OPEN_REGISTRATION",
      "--cors-origins LOCUS_CORS_ORIGINS",
      "--max-connections-per-ip LOCUS_MAX_CONNECTIONS_PER_IP",
      "--redis-url LOCUS_REDIS_URL",
      "--osmand-port LOCUS_OSMAND_PORT",
      "--stop-minutes LOCUS_STOP_MINUTES",
      "--stop-radius-m LOCUS_STOP_RADIUS_M",
      "--trip-min-m LOCUS_TRIP_MIN_M",
      "--gap-minutes LOCUS_GAP_MINUTES",
      "--import-max-mb LOCUS_IMPORT_MAX_MB",
      "--gap-km LOCUS_GAP_KM",
      "--speed-limit-kmh LOCUS_SPEED_LIMIT_KMH",
      "--overspeed-seconds LOCUS_OVERSPEED_SECONDS",
      "--low-battery-percent LOCUS_LOW_BATTERY_PERCENT",
      "--offline-minutes LOCUS_OFFLINE_MINUTES",
      "--geofence-hysteresis-m LOCUS_GEOFENCE_HYSTERESIS_M",
      "--metrics-token LOCUS_METRICS_TOKEN",
      "--webhook-allow-private LOCUS_WEBHOOK_ALLOW_PRIVATE",
      "--vapid-subject LOCUS_VAPID_SUBJECT",
      "--webhook-retry-base-ms LOCUS_WEBHOOK_RETRY_BASE_MS",
    ]);
  });

  it("gives every setting a one-line description", () => {
    for (const s of SETTINGS) expect(s.description, s.key).toMatch(/^[^\n]{10,}$/);
  });
});
