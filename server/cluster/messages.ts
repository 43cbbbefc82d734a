import { DEVICE_ID_PATTERN, type Position } from "../../protocol/index.ts";
import type { DeviceChange } from "../services/devices.ts";
import { EVENT_TYPES, type FleetEvent } from "../../protocol/geofence.ts";
import type { GeofenceChange } from "../services/geofences.ts";
import type { FeedEnd } from "../services/people.ts";

/**
 * What the nodes of a cluster tell each other, as socket.io server-side events on the cluster
 * namespace. Each message carries a decision a service already took on the node that sends it;
 * the receiving node only applies it. Messages come from our own nodes, but a bad one (another
 * version, a bug) is dropped, never trusted into the live state and never allowed to throw.
 */
export const CLUSTER_NAMESPACE = "/cluster";

export const EVENTS = {
  /** Fixes committed in one commit batch: [deviceId, receivedAt | null, plausible fixes][]. */
  fixes: "fixes:v1",
  /** A device added, changed or removed: the receiver reads the rest from the store. */
  device: "device:v1",
  /** A user's live feeds end (access withdrawn or changed). */
  feedsEnd: "feeds-end:v1",
  /** A geofence added, changed or removed: the receiver reads the fences again. */
  geofence: "geofence:v1",
  /** An event this node derived, for the other nodes' dashboards. */
  event: "event:v1",
} as const;

export type FixesEntry = [deviceId: string, receivedAt: number | null, fixes: Position[]];
export interface DeviceMessage {
  type: DeviceChange["type"];
  deviceId: string;
}
export interface FeedsEndMessage {
  user: string;
  why: FeedEnd;
}

const DEVICE_CHANGES = new Set<string>(["added", "updated", "removed"]);
const FEED_ENDS = new Set<string>(["signed_out", "access_changed"]);
const USER_NAME = /^[\w.@-]{1,64}$/;
const OPTIONAL_NUMBERS = ["speed", "course", "alt", "accuracy", "battery"] as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * A fix as the live side needs it, or null. Copies only the known fields: the wire encoding
 * turns an absent field into null, and nothing else must ride along into the live state.
 */
function peerPosition(raw: unknown): Position | null {
  if (!isObject(raw)) return null;
  const { ts, lat, lon } = raw;
  if (!Number.isSafeInteger(ts) || !isFiniteNumber(lat) || !isFiniteNumber(lon)) return null;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  const p: Position = { ts: ts as number, lat, lon };
  for (const key of OPTIONAL_NUMBERS) {
    const v = raw[key];
    if (isFiniteNumber(v)) p[key] = v;
    else if (v !== undefined && v !== null) return null;
  }
  const attributes = raw.attributes;
  if (isObject(attributes)) {
    const clean: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(attributes)) {
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") clean[k] = v;
    }
    p.attributes = clean;
  }
  return p;
}

/** The entries of a fixes message that are well-formed; bad entries and fixes are counted. */
export function readFixes(raw: unknown): { entries: FixesEntry[]; dropped: number } {
  const entries: FixesEntry[] = [];
  let dropped = 0;
  if (!Array.isArray(raw)) return { entries, dropped: 1 };
  for (const entry of raw) {
    if (!Array.isArray(entry) || entry.length !== 3) {
      dropped++;
      continue;
    }
    const [deviceId, receivedAt, fixes] = entry as unknown[];
    if (
      typeof deviceId !== "string" ||
      !DEVICE_ID_PATTERN.test(deviceId) ||
      !(receivedAt === null || isFiniteNumber(receivedAt)) ||
      !Array.isArray(fixes)
    ) {
      dropped++;
      continue;
    }
    const positions: Position[] = [];
    for (const f of fixes) {
      const p = peerPosition(f);
      if (p) positions.push(p);
      else dropped++;
    }
    entries.push([deviceId, receivedAt, positions]);
  }
  return { entries, dropped };
}

export function readDeviceMessage(raw: unknown): DeviceMessage | null {
  if (!isObject(raw)) return null;
  const { type, deviceId } = raw;
  if (typeof type !== "string" || !DEVICE_CHANGES.has(type)) return null;
  if (typeof deviceId !== "string" || !DEVICE_ID_PATTERN.test(deviceId)) return null;
  return { type: type as DeviceMessage["type"], deviceId };
}

export function readFeedsEnd(raw: unknown): FeedsEndMessage | null {
  if (!isObject(raw)) return null;
  const { user, why } = raw;
  if (typeof user !== "string" || !USER_NAME.test(user)) return null;
  if (typeof why !== "string" || !FEED_ENDS.has(why)) return null;
  return { user, why: why as FeedEnd };
}

export function readGeofenceMessage(raw: unknown): GeofenceChange | null {
  if (!isObject(raw)) return null;
  const { type, id } = raw;
  if (typeof type !== "string" || !DEVICE_CHANGES.has(type)) return null;
  if (!Number.isSafeInteger(id) || (id as number) < 1) return null;
  return { type: type as GeofenceChange["type"], id: id as number };
}

/** An event as the dashboards get it, copied field by field; null when anything is off. */
export function readEventMessage(raw: unknown): FleetEvent | null {
  if (!isObject(raw)) return null;
  const { id, deviceId, type, ts, lat, lon, geofenceId, details } = raw;
  if (!Number.isSafeInteger(id) || !Number.isSafeInteger(ts)) return null;
  if (typeof deviceId !== "string" || !DEVICE_ID_PATTERN.test(deviceId)) return null;
  if (typeof type !== "string" || !(EVENT_TYPES as readonly string[]).includes(type)) return null;
  if (!isFiniteNumber(lat) || !isFiniteNumber(lon)) return null;
  if (!(geofenceId === null || Number.isSafeInteger(geofenceId))) return null;
  if (!isObject(details)) return null;
  const clean: FleetEvent["details"] = {};
  for (const [k, v] of Object.entries(details)) {
    if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      clean[k] = v;
    }
  }
  return {
    id: id as number,
    deviceId,
    type: type as FleetEvent["type"],
    ts: ts as number,
    lat,
    lon,
    geofenceId: geofenceId as number | null,
    details: clean,
  };
}
