import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { parseArgs } from "node:util";
import { DEVICE_ID_PATTERN } from "../protocol/index.ts";
import { deviceIdFor } from "./fleet.ts";

/** The simulator's flags: parsed and checked before anything connects, so a typo costs nothing. */

export const USAGE = `Usage: npm run simulate -- [flags]

  --url URL          Locus server (default http://localhost:3000)
  --vehicles N       number of vehicles (default 50)
  --interval MS      report interval per vehicle in ms (default 1000)
  --seed N           random seed; the same seed drives the same paths (default 1)
  --duration S       stop after S seconds (default: run until Ctrl-C)
  --center LAT,LON   centre of the made-up city (default 52.52,13.405)
  --prefix P         device id prefix (default sim-): P0001, P0002, …
  --token T          device token sent by every vehicle (optional)
  --tokens FILE      per-device tokens as JSON {"sim-0001": "lct_…"}, as printed by
                     "npm run locus -- device add sim-0001 … --json"
  --log FILE         append every generated position to FILE as JSON lines ({deviceId, ...position})
  --gpx FILE         instead of a fleet, replay the track of a GPX file as one live device,
                     its times shifted to now
  --speedup N        with --gpx: play N times faster than recorded (default 1, real time)
  --device ID        with --gpx: the device id (default: gpx- and the file's name)
  --help             this text
`;

/** A flag the user got wrong: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export interface Settings {
  url: string;
  vehicles: number;
  intervalMs: number;
  seed: number;
  durationMs: number | undefined;
  center: { lat: number; lon: number };
  prefix: string;
  token: string | undefined;
  tokens: Record<string, string> | undefined;
  log: string | undefined;
  gpx: { file: string; speedup: number; deviceId: string } | undefined;
}

export function parseSettings(argv: string[]): Settings | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: "string", default: "http://localhost:3000" },
        vehicles: { type: "string", default: "50" },
        interval: { type: "string", default: "1000" },
        seed: { type: "string", default: "1" },
        duration: { type: "string" },
        center: { type: "string", default: "52.52,13.405" },
        prefix: { type: "string", default: "sim-" },
        token: { type: "string" },
        tokens: { type: "string" },
        log: { type: "string" },
        gpx: { type: "string" },
        speedup: { type: "string" },
        device: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    // parseArgs names the offending flag in its message.
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";

  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url: not a URL: ${values.url}`);
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
    throw new UsageError("--url: must start with http://, https://, ws:// or wss://");
  }
  const vehicles = integer("--vehicles", values.vehicles, 1, 100_000);
  const intervalMs = integer("--interval", values.interval, 10, 3_600_000);
  const seed = integer("--seed", values.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    const seconds = Number(values.duration);
    if (values.duration.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
      throw new UsageError(
        `--duration: must be a positive number of seconds, got "${values.duration}"`,
      );
    }
    durationMs = Math.round(seconds * 1000);
  }
  const center = parseCenter(values.center);
  const prefix = values.prefix;
  if (!DEVICE_ID_PATTERN.test(deviceIdFor(prefix, vehicles))) {
    throw new UsageError(
      "--prefix: device ids must be 1–64 characters of A–Z a–z 0–9 . _ : - (prefix plus 4+ digits)",
    );
  }
  const token = values.token;
  if (token !== undefined && token === "") throw new UsageError("--token: must not be empty");
  const tokens = values.tokens === undefined ? undefined : readTokens(values.tokens);
  const log = values.log;
  if (log !== undefined && log === "") throw new UsageError("--log: must be a file path");
  return {
    gpx: parseGpx(values.gpx, values.speedup, values.device),
    url: values.url,
    vehicles,
    intervalMs,
    seed,
    durationMs,
    center,
    prefix,
    token,
    tokens,
    log,
  };
}

function parseGpx(
  file: string | undefined,
  speedupText: string | undefined,
  device: string | undefined,
): Settings["gpx"] {
  if (file === undefined) {
    if (speedupText !== undefined || device !== undefined) {
      throw new UsageError("--speedup and --device go with --gpx FILE");
    }
    return undefined;
  }
  if (file === "") throw new UsageError("--gpx: must be a file path");
  const speedup = Number(speedupText ?? "1");
  if (!Number.isFinite(speedup) || speedup <= 0 || speedup > 1_000_000) {
    throw new UsageError(`--speedup: must be a number above 0, got "${speedupText}"`);
  }
  const fromName = `gpx-${basename(file, extname(file)).replace(/[^A-Za-z0-9._:-]/g, "-")}`;
  const deviceId = device ?? fromName.slice(0, 64);
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    throw new UsageError("--device: must be 1–64 characters of A–Z a–z 0–9 . _ : -");
  }
  return { file, speedup, deviceId };
}

function readTokens(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`--tokens: cannot read ${file}: ${(err as Error).message}`);
  }
  const ok =
    typeof parsed === "object" &&
    parsed !== null &&
    Object.values(parsed).every((t) => typeof t === "string");
  if (!ok) throw new UsageError(`--tokens: ${file} must be a JSON object of device id → token`);
  return parsed as Record<string, string>;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function parseCenter(text: string): { lat: number; lon: number } {
  const parts = text.split(",").map((p) => p.trim());
  const [lat, lon] = parts.map(Number);
  const ok =
    parts.length === 2 &&
    parts.every((p) => p !== "") &&
    lat !== undefined &&
    lon !== undefined &&
    Math.abs(lat) <= 80 && // the flat-earth street grid distorts too much nearer the poles
    Math.abs(lon) <= 180;
  if (!ok) throw new UsageError(`--center: expected LAT,LON with |LAT| ≤ 80, got "${text}"`);
  return { lat: lat!, lon: lon! };
}
