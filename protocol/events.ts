import type { ErrorBody, ErrorCode } from "./errors.ts";
import type { FleetEvent } from "./geofence.ts";
import type { DeviceStatus, Position } from "./position.ts";

/**
 * Every socket.io event of Locus, in one place. The server types its namespaces with these maps,
 * the dashboard and the simulator type their sockets with the mirrored pair, so a renamed field
 * fails the type check everywhere at once.
 *
 * Version the contract: a breaking change gets a new namespace (`/device/v2`), never an edit here.
 */
export const PROTOCOL_VERSION = 1;
export const DEVICE_NAMESPACE = "/device";
export const LIVE_NAMESPACE = "/live";

// ---- /device ------------------------------------------------------------------------------

/** `io(url + "/device", { auth })`: the handshake a device presents. */
export interface DeviceAuth {
  deviceId: string;
  /** Carried now; enforced once device tokens exist. */
  token?: string;
}

export interface RejectedPosition {
  /** Index in the reported array (0 for a single position). */
  index: number;
  /** Dotted path of the offending field, e.g. `lat` or `attributes.colour`. */
  field: string;
  message: string;
}

/** The codes a `position:report` ack may carry. */
export type ReportErrorCode = Extract<
  ErrorCode,
  | "invalid_payload"
  | "batch_too_large"
  | "rate_limited"
  | "unauthorized"
  | "unknown_event"
  | "shutting_down"
  | "unavailable"
  | "internal"
>;

export type ReportAck =
  | { ok: true; accepted: number; duplicates: number; rejected: RejectedPosition[] }
  | { ok: false; error: ErrorBody<ReportErrorCode> };

export interface DeviceClientToServer {
  "position:report": (payload: Position | Position[], ack: (result: ReportAck) => void) => void;
}

// Devices receive nothing unsolicited today; the map exists so additions stay typed.
export type DeviceServerToClient = Record<string, never>;

// ---- /live (dashboards) ------------------------------------------------------------------

/** A device as a dashboard sees it: its latest accepted fix and its status. */
export interface LiveDevice {
  id: string;
  /** The display name an admin gave it; absent: show the id. */
  name?: string;
  status: DeviceStatus;
  /** Server time the last report arrived, epoch ms; drives "last seen". 0: never reported. */
  lastSeen: number;
  position: Position | null;
}

export interface LiveSnapshot {
  /** Server clock when the snapshot was taken, so clients can correct "ago" for clock skew. */
  serverTime: number;
  tickMs: number;
  devices: LiveDevice[];
}

/**
 * A changed device in a batch. `trail` carries the fixes stored since the previous batch that came
 * before `position`, oldest first, flattened as [ts, lat, lon, ts, lat, lon, ...]: so every fix
 * reaches every dashboard (a trail drawn live matches history) even when a device reports faster
 * than the tick, at about a third of the bytes the same fixes would take as objects.
 */
export interface LiveUpdate extends LiveDevice {
  trail?: number[];
}

/** Numbers per fix in `LiveUpdate.trail`. */
export const TRAIL_STRIDE = 3;

/** Everything that changed since the previous tick: one message per tick per dashboard. */
export interface LiveBatch {
  serverTime: number;
  /** Devices with a newer fix, a new status or a new name; a device appears at most once. */
  devices: LiveUpdate[];
  /** Devices removed since the previous batch (or no longer visible): drop them from the map. */
  removed?: string[];
}

export interface LiveServerToClient {
  "fleet:snapshot": (snapshot: LiveSnapshot) => void;
  "fleet:updated": (batch: LiveBatch) => void;
  /** Something happened to a device the dashboard may see (a fence crossed, an overspeed). */
  "fleet:event": (event: FleetEvent) => void;
}

export type LiveClientToServer = Record<string, never>;
