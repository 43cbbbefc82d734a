import { z } from "zod";

/**
 * What an operator reads about a setting. Flag and environment names are not declared here: they
 * follow from the key (settings.ts), so a new setting cannot get them wrong.
 */
export interface SettingDoc {
  /** One line for `--help` and the README table; markdown code spans allowed. */
  description: string;
  /** Only for names that predate the `LOCUS_` rule and that operators already use. */
  env?: string;
  /** When the literal default would mislead, e.g. an empty password means "random, printed once". */
  shownDefault?: string;
}

export const settingDocs = z.registry<SettingDoc>();

/**
 * Every setting of the server, in the order `--help` and README.md list them. A setting is a zod
 * rule with a default: `z.int()` or `z.number()` (bounded with `.min()` only, which is what error
 * messages and docs describe as "≥"), `z.string()`, `z.enum()` or `z.boolean()`.
 */
export const configSchema = z.object({
  port: z
    .int()
    .min(0)
    .default(3000)
    .register(settingDocs, { env: "PORT", description: "HTTP port (0 picks a free one)" }),
  host: z.string().default("0.0.0.0").register(settingDocs, {
    description: "interface to listen on",
  }),
  db: z.string().default("./data/locus.db").register(settingDocs, {
    description:
      "SQLite file (created with its folder), or a `postgres://user:password@host/database` URL for the cluster store",
  }),
  tickMs: z.int().min(10).default(100).register(settingDocs, {
    description: "how often dashboards get a batch of changes",
  }),
  offlineAfterMs: z.int().min(1000).default(300_000).register(settingDocs, {
    description: "silence after which a device shows offline",
  }),
  movingSpeed: z.number().min(0).default(1).register(settingDocs, {
    description: "m/s at or above which a device is moving",
  }),
  commitDelayMs: z.int().min(0).default(5).register(settingDocs, {
    description:
      "least a report waits to share a transaction; under load the wait grows to 3× the last commit's time (at most 50 ms)",
  }),
  commitMaxRows: z.int().min(1).default(5000).register(settingDocs, {
    description: "queued rows that trigger a commit at once",
  }),
  maxFutureMs: z.int().min(0).default(600_000).register(settingDocs, {
    description: "how far ahead of the server clock a `ts` may be (devices with drifting clocks)",
  }),
  tileUrl: z
    .string()
    .default("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    .register(settingDocs, {
      description: "map tile URL template",
    }),
  tileAttribution: z
    .string()
    .default(
      '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    )
    .register(settingDocs, {
      description: "attribution shown under the tiles (HTML)",
      shownDefault: "OpenStreetMap contributors",
    }),
  trailMinutes: z.int().min(1).default(15).register(settingDocs, {
    description: "trail length for the selected vehicle",
  }),
  logLevel: z
    .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
    .default("info")
    .register(settingDocs, { description: "log messages at this level and above" }),
  buildIfStale: z.boolean().default(false).register(settingDocs, {
    description: "build the dashboard first when `dist/` is missing or older than `web/`",
    shownDefault: "`false` (`npm start` sets it)",
  }),
  durability: z.enum(["normal", "full"]).default("normal").register(settingDocs, {
    description:
      "`normal`: an acknowledged position survives a crash of Locus; `full`: also a power loss (WAL fsynced before every ack); see Delivery guarantees",
  }),
  rateLimit: z.number().min(0.01).default(20).register(settingDocs, {
    description: "reports (messages, not positions) per second per device, on average",
  }),
  rateBurst: z.int().min(1).default(60).register(settingDocs, {
    description: "reports a device may send in a burst (a backlog after reconnecting)",
  }),
  maxAccuracyM: z.number().min(0).default(1000).register(settingDocs, {
    description: "fixes less accurate than this are stored but flagged implausible",
  }),
  maxImpliedSpeed: z.number().min(0).default(100).register(settingDocs, {
    description:
      "m/s; a jump faster than this from the previous fix is stored but flagged implausible",
  }),
  adminPassword: z.string().default("").register(settingDocs, {
    description:
      "password of the `admin` created on first run (prefer the variable: flags show in `ps`)",
    shownDefault: "random, printed once",
  }),
  sessionTtlHours: z.number().min(0.01).default(168).register(settingDocs, {
    description: "how long a dashboard sign-in lasts",
  }),
  trustProxy: z.boolean().default(false).register(settingDocs, {
    description:
      "behind a reverse proxy on a private address: trust `X-Forwarded-For`/`-Proto` (client address for rate limits; `Secure` cookies under TLS)",
  }),
  openRegistration: z.boolean().default(false).register(settingDocs, {
    description: "let unregistered devices report without a token (trusted networks only)",
  }),
  corsOrigins: z.string().default("").register(settingDocs, {
    description:
      "comma-separated browser origins allowed to call the API and socket.io (`*` for any)",
    shownDefault: "none",
  }),
  maxConnectionsPerIp: z.int().min(0).default(10_000).register(settingDocs, {
    description: "socket.io and plain WebSocket connections from one address (0: no limit)",
  }),
  redisUrl: z.string().default("").register(settingDocs, {
    description:
      "join the other nodes on the same database through this Redis (`redis://host:6379`): live feeds and access changes reach every node; see Cluster",
    shownDefault: "none (one node)",
  }),
  osmandPort: z.int().min(-1).default(-1).register(settingDocs, {
    description:
      "a second port taking the OsmAnd protocol at any path (phone apps default to `5055`; `0` picks a free one)",
    shownDefault: "`-1` (off)",
  }),
  stopMinutes: z.number().min(0).default(3).register(settingDocs, {
    description: "a stay shorter than this is not a stop (see History)",
  }),
  stopRadiusM: z.number().min(1).default(200).register(settingDocs, {
    description: "a stop stays within this distance of where it began",
  }),
  tripMinM: z.number().min(0).default(200).register(settingDocs, {
    description: "movement between stops shorter than this is not listed as a trip",
  }),
  gapMinutes: z.number().min(0.01).default(5).register(settingDocs, {
    description:
      "fixes further apart than this have a data gap between them: tracks break (no line across it), trips end, export segments break",
  }),
  importMaxMb: z.number().min(0.001).default(200).register(settingDocs, {
    description: "largest file the import endpoint accepts",
  }),
  gapKm: z.number().min(0.001).default(5).register(settingDocs, {
    description:
      "tracks break across a jump between two consecutive fixes longer than this; changing either rebuilds track summaries in the background",
  }),
  speedLimitKmh: z.number().min(0).default(0).register(settingDocs, {
    description:
      "overspeed events above this speed, everywhere (0: none; a geofence may set its own limit)",
  }),
  overspeedSeconds: z.number().min(0).default(10).register(settingDocs, {
    description: "an overspeed episode counts once it lasts this long",
  }),
  lowBatteryPercent: z.number().min(0).max(100).default(15).register(settingDocs, {
    description: "a `battery_low` event when a device reports less than this (0: never)",
  }),
  offlineMinutes: z.number().min(0).default(10).register(settingDocs, {
    description:
      "an `offline` event once a device has sent no fix for this long, `online` at its next (0: neither)",
  }),
  geofenceHysteresisM: z.number().min(0).default(10).register(settingDocs, {
    description:
      "metres past a fence's boundary a device must go before enter or exit counts, so jitter on the line raises nothing",
  }),
  metricsToken: z.string().default("").register(settingDocs, {
    description:
      "secret Prometheus sends as `Authorization: Bearer …` to scrape `/metrics` (admins need none; prefer the variable: flags show in `ps`)",
    shownDefault: "none (admins only)",
  }),
  webhookAllowPrivate: z.boolean().default(false).register(settingDocs, {
    description:
      "let webhooks reach loopback, link-local and private addresses (receivers on your LAN); off, only public addresses are called",
  }),
  vapidSubject: z
    .string()
    .regex(/^(?:mailto:.+|https:\/\/.+)$/, { error: "must be a mailto: or https:// URL" })
    .default("mailto:locus@localhost")
    .register(settingDocs, {
      description:
        "contact that browser push services see with each Web Push message (`mailto:you@example.com` or your https:// site; Apple's refuses localhost)",
    }),
  webhookRetryBaseMs: z.int().min(10).default(1000).register(settingDocs, {
    description:
      "first wait before a failed webhook delivery is retried; each retry waits twice as long, at most 10 minutes, for up to 24 h",
  }),
});

export type Config = z.output<typeof configSchema>;

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze(configSchema.parse({}));
