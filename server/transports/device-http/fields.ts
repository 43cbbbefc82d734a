import { badRequest } from "../../services/errors.ts";

/**
 * Value parsing shared by the phone-app gateways. Apps send text (query strings, forms) or loosely
 * typed JSON; each helper turns one field into the contract's unit or throws a bad_request naming
 * the field as the app spelled it.
 */

/** One knot in m/s (1852 m per hour). */
export const KNOT_MS = 1852 / 3600;
/** One km/h in m/s. */
export const KMH_MS = 1 / 3.6;

/** Seconds since the epoch fit in 31 bits until 2038; anything larger is taken as milliseconds. */
const SECONDS_LIMIT = 2 ** 31;

// A plain decimal: what every app writes. Rejects "", "0x1f", "Infinity", "1e999" and friends.
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?$/;
// A full ISO-8601 date-time with a zone: a time without one is ambiguous and refused.
const ISO_WITH_ZONE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$/i;
// Traccar's `yyyy-MM-dd HH:mm:ss`, which carries no zone and is taken as UTC.
const SPACED_UTC = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(\.\d{1,9})?)$/;

export function parseNumber(field: string, raw: string | number): number {
  const value = typeof raw === "number" ? raw : DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(value)) throw badRequest(field, "must be a number");
  return value;
}

/** A JSON field that should be a number; apps of some versions send numbers as strings. */
export function numberField(field: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "number" && typeof raw !== "string") {
    throw badRequest(field, "must be a number");
  }
  return parseNumber(field, raw);
}

function isoToMs(field: string, raw: string): number {
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms)) throw badRequest(field, "is not a valid date-time");
  return ms;
}

/**
 * The OsmAnd `timestamp`: epoch seconds (a number ≥ 2^31 is milliseconds), an ISO-8601 date-time
 * with a zone, or `yyyy-MM-dd HH:mm:ss` taken as UTC. Returns epoch milliseconds.
 */
export function parseTimestamp(field: string, raw: string): number {
  const text = raw.trim();
  if (DECIMAL.test(text)) {
    const n = Number(text);
    return Math.round(Math.abs(n) >= SECONDS_LIMIT ? n : n * 1000);
  }
  if (ISO_WITH_ZONE.test(text)) return isoToMs(field, text);
  const spaced = SPACED_UTC.exec(text);
  if (spaced) return isoToMs(field, `${spaced[1]}T${spaced[2]}Z`);
  throw badRequest(
    field,
    "must be epoch seconds, epoch milliseconds, ISO-8601 with a zone or yyyy-MM-dd HH:mm:ss (UTC)",
  );
}

/** An ISO-8601 date-time with a zone, as JSON apps send it. */
export function parseIsoTime(field: string, raw: unknown): number {
  if (typeof raw !== "string" || !ISO_WITH_ZONE.test(raw.trim())) {
    throw badRequest(field, "must be an ISO-8601 date-time with a zone");
  }
  return isoToMs(field, raw.trim());
}

export function parseBoolean(field: string, raw: string | boolean): boolean {
  if (typeof raw === "boolean") return raw;
  if (/^(true|1)$/i.test(raw)) return true;
  if (/^(false|0)$/i.test(raw)) return false;
  throw badRequest(field, "must be true or false");
}

/** A free-form parameter kept as an attribute: a number, a boolean, or the text itself. */
export function attributeFromText(raw: string): string | number | boolean {
  if (DECIMAL.test(raw)) {
    const n = Number(raw);
    if (Number.isFinite(n)) return n;
  }
  if (raw === "true") return true;
  if (raw === "false") return false;
  return raw;
}

/** Degrees as apps send them; 360 is north too, and the contract wants [0, 360). */
export function normaliseCourse(degrees: number): number {
  return degrees === 360 ? 0 : degrees;
}

/** `Authorization: Basic …` as user and password, or null when absent or not Basic. */
export function basicCredentials(
  header: string | undefined,
): { user: string; password: string } | null {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "")?.[1];
  if (!encoded) return null;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { user: decoded, password: "" };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export type Attributes = Record<string, string | number | boolean>;

/**
 * An attributes object without a prototype: a parameter named `__proto__` then becomes an own
 * key that validation rejects by name, instead of silently reaching Object.prototype's setter.
 */
export function newAttributes(): Attributes {
  return Object.create(null) as Attributes;
}
