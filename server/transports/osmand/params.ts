import type { Position } from "../../../protocol/index.ts";
import { badRequest } from "../../services/errors.ts";
import {
  attributeFromText,
  KNOT_MS,
  newAttributes,
  normaliseCourse,
  parseBoolean,
  parseNumber,
  parseTimestamp,
} from "../device-http/fields.ts";
import type { FieldNames } from "../device-http/reply.ts";

/**
 * The OsmAnd protocol's query-string / form flavour, as Traccar's OsmAnd decoder reads it and as
 * Traccar Client (up to v8), OsmAnd's "online tracking" and GPSLogger's "custom URL" send it
 * (https://www.traccar.org/osmand/): `id`, `timestamp`, `lat`, `lon`, `speed` in knots, `bearing`,
 * `altitude`, `accuracy`, `hdop`, `batt`, `charge`… Any other parameter becomes an attribute.
 */
export interface OsmAndReport {
  deviceId: string;
  /** The parameter that named the device (`id` or `deviceid`), for error messages. */
  idField: string;
  token: string | undefined;
  position: Position;
}

/** Contract fields as this protocol names them. */
export const OSMAND_FIELDS: FieldNames = {
  ts: "timestamp",
  course: "bearing",
  alt: "altitude",
  battery: "batt",
};

/** Parameters that are credentials, never stored. */
const SECRET = new Set(["token", "password"]);
const HANDLED = new Set([
  "id",
  "deviceid",
  "timestamp",
  "lat",
  "lon",
  "location",
  "speed",
  "bearing",
  "heading",
  "altitude",
  "accuracy",
  "hdop",
  "batt",
  "charge",
  "valid",
]);

/**
 * Query and body parameters as one map. Apps leave unknown placeholders empty, so an empty value
 * counts as absent; a parameter given twice with different values is ambiguous and refused.
 */
export function collectParams(sources: URLSearchParams[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const source of sources) {
    for (const [key, value] of source) {
      if (value === "") continue;
      const previous = params.get(key);
      if (previous !== undefined && previous !== value) {
        throw badRequest(key, "must be given once");
      }
      params.set(key, value);
    }
  }
  return params;
}

/** `basicUser`: the HTTP Basic user name, the device id for apps that send one there. */
export function osmAndFromParams(
  params: Map<string, string>,
  now: number,
  basicUser?: string,
): OsmAndReport {
  const id = params.get("id");
  const deviceid = params.get("deviceid");
  if (id !== undefined && deviceid !== undefined && id !== deviceid) {
    throw badRequest("id", "and deviceid name different devices");
  }
  const deviceId = id ?? deviceid ?? (basicUser || undefined);
  if (deviceId === undefined) {
    throw badRequest("id", "is required (or deviceid, or the HTTP Basic user name)");
  }
  const idField = id !== undefined ? "id" : deviceid !== undefined ? "deviceid" : "Basic user";

  const num = (name: string) => {
    const raw = params.get(name);
    return raw === undefined ? undefined : parseNumber(name, raw);
  };
  let lat = num("lat");
  let lon = num("lon");
  const location = params.get("location");
  if (location !== undefined && lat === undefined && lon === undefined) {
    const parts = location.split(",");
    if (parts.length !== 2) throw badRequest("location", "must be lat,lon");
    lat = parseNumber("location", parts[0]!);
    lon = parseNumber("location", parts[1]!);
  }
  if (lat === undefined) throw badRequest("lat", "is required (or location=lat,lon)");
  if (lon === undefined) throw badRequest("lon", "is required (or location=lat,lon)");

  const raw = params.get("timestamp");
  // Traccar stamps a report without a time with its arrival; some URL templates leave it out.
  const position: Position = {
    ts: raw === undefined ? now : parseTimestamp("timestamp", raw),
    lat,
    lon,
  };
  const speed = num("speed");
  if (speed !== undefined) position.speed = speed * KNOT_MS;
  const course = num("bearing") ?? num("heading");
  if (course !== undefined) position.course = normaliseCourse(course);
  const alt = num("altitude");
  if (alt !== undefined) position.alt = alt;
  const accuracy = num("accuracy");
  if (accuracy !== undefined) position.accuracy = accuracy;
  const battery = num("batt");
  if (battery !== undefined) position.battery = battery;

  const attributes = newAttributes();
  const hdop = num("hdop");
  if (hdop !== undefined) attributes.hdop = hdop;
  for (const name of ["charge", "valid"]) {
    const value = params.get(name);
    if (value !== undefined) attributes[name] = parseBoolean(name, value);
  }
  for (const [key, value] of params) {
    if (HANDLED.has(key) || SECRET.has(key)) continue;
    attributes[key] = attributeFromText(value);
  }
  if (Object.keys(attributes).length > 0) position.attributes = attributes;
  return { deviceId, idField, token: params.get("token") ?? params.get("password"), position };
}
