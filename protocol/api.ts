import type { LiveDevice } from "./events.ts";
import type { Position } from "./position.ts";

/** Shapes of the REST API's JSON replies, shared by the server and the dashboard. */

/** One health check's answer: the store ("positions can be committed"), a Redis adapter… */
export interface HealthCheckReply {
  ok: boolean;
  /** Why not, when not ok. */
  reason?: string;
}

export interface HealthReply {
  /** False (with HTTP 503) when this node cannot do its job: its store cannot commit. */
  ok: boolean;
  version: string;
  protocol: number;
  uptimeMs: number;
  devices: number;
  devicesOnline: number;
  /** Group commits so far: transactions and the rows they carried. */
  ingest: { commits: number; rows: number; queued: number };
  /** Every registered check by name: always `store`, and `redis` when a Redis adapter is on. */
  checks: Record<string, HealthCheckReply>;
}

export interface DevicesReply {
  devices: LiveDevice[];
}

/** Why a stored fix was judged implausible (it is kept, but left out of live views and lines). */
export type ImplausibleReason = "null_island" | "inaccurate" | "implied_speed";

/** A stored fix; `flag` is present only on implausible fixes, returned with `?flagged=include`. */
export type HistoryPosition = Position & { flag?: ImplausibleReason };

export interface PositionsReply {
  deviceId: string;
  from: number;
  to: number;
  positions: HistoryPosition[];
  /** URL of the next page (same range, continuing after the last position), or null at the end. */
  next: string | null;
}

export interface ClientConfigReply {
  tileUrl: string;
  tileAttribution: string;
  tickMs: number;
  trailMinutes: number;
}

export const POSITIONS_DEFAULT_LIMIT = 1000;
export const POSITIONS_MAX_LIMIT = 10_000;

// ---- people: sessions and administration -------------------------------------------------

export type Role = "admin" | "viewer";

export interface SessionUser {
  name: string;
  role: Role;
}

/** `POST /api/session` body; the reply sets the HttpOnly `locus_session` cookie. */
export interface LoginRequest {
  username: string;
  password: string;
}

/** `GET /api/session` and `POST /api/session` reply. */
export interface SessionReply {
  user: SessionUser;
}

/** Which devices a user sees by id: every device, or the listed ones. */
export type DeviceGrant = "all" | string[];

/** The devices a role and grant amount to: admins always see every device, whatever was listed. */
export function effectiveGrant(role: Role, devices: DeviceGrant): DeviceGrant {
  return role === "admin" ? "all" : devices;
}
