/** Query-string parsing for the REST API: every failure names the parameter and the rule. */

import { badRequest } from "../../services/errors.ts";

type Query = Record<string, unknown>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw badRequest(name, "must be given once, as a plain value");
  return value;
}

// Full ISO-8601 date-time with an explicit zone (or a bare date, taken as UTC midnight).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** A time as epoch milliseconds or ISO-8601; `fallback` when absent. */
export function timeParam(query: Query, name: string, fallback: number): number {
  const raw = single(query, name);
  if (raw === undefined || raw === "") return fallback;
  if (/^-?\d{1,16}$/.test(raw)) return Number(raw);
  if (ISO_8601.test(raw)) {
    const ms = Date.parse(raw);
    if (Number.isFinite(ms)) return ms;
  }
  throw badRequest(
    name,
    "must be epoch milliseconds or an ISO-8601 date-time with a zone, e.g. 2026-11-24T08:00:00Z",
  );
}

export function intParam(
  query: Query,
  name: string,
  { fallback, min, max }: { fallback: number; min: number; max: number },
): number {
  const raw = single(query, name);
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw badRequest(name, `must be an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw badRequest(name, `must be from ${min} to ${max}`);
  return value;
}

export function choiceParam<T extends string>(
  query: Query,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = single(query, name);
  if (raw === undefined || raw === "") return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw badRequest(name, `must be one of ${choices.join(", ")}`);
  }
  return raw as T;
}

/** A decimal number within [min, max]; undefined when absent. */
export function numberParam(
  query: Query,
  name: string,
  { min, max }: { min: number; max: number },
): number | undefined {
  const raw = single(query, name);
  if (raw === undefined || raw === "") return undefined;
  const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw badRequest(name, `must be a number from ${min} to ${max}`);
  }
  return value;
}

/** `west,south,east,north` in degrees, as Leaflet's `getBounds().toBBoxString()` gives it. */
export function bboxParam(
  query: Query,
  name: string,
): { west: number; south: number; east: number; north: number } | undefined {
  const raw = single(query, name);
  if (raw === undefined || raw === "") return undefined;
  const parts = raw.split(",").map((p) => (/^-?\d+(\.\d+)?$/.test(p.trim()) ? Number(p) : NaN));
  const rule = "must be west,south,east,north in degrees, west < east, south < north";
  if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p))) {
    throw badRequest(name, rule);
  }
  const [west, south, east, north] = parts as [number, number, number, number];
  if (west >= east || south >= north) throw badRequest(name, rule);
  if (south < -90 || north > 90) throw badRequest(name, "latitudes must be from -90 to 90");
  if (west < -180 || east > 180) throw badRequest(name, "longitudes must be from -180 to 180");
  return { west, south, east, north };
}

/** `from` and `to` as epoch ms; the whole history when absent. */
export function rangeParams(query: Query): { from: number; to: number } {
  return {
    from: timeParam(query, "from", 0),
    to: timeParam(query, "to", Number.MAX_SAFE_INTEGER),
  };
}
