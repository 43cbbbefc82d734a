import type { LiveDevice } from "./events.ts";
import type { Position } from "./position.ts";

/** Shapes of the REST API's JSON replies, shared by the server and the dashboard. */

export interface HealthReply {
  ok: true;
  version: string;
  protocol: number;
  uptimeMs: number;
  devices: number;
  devicesOnline: number;
  /** Group commits so far: transactions and the rows they carried. */
  ingest: { commits: number; rows: number; queued: number };
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

export interface ErrorReply {
  error: { code: string; message: string };
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

export interface AdminDevice {
  deviceId: string;
  createdAt: number;
  hasToken: boolean;
  /** May report by its identifier alone, without a token (phone apps that cannot send one). */
  idOnly: boolean;
}

/** `GET /api/admin/devices` */
export interface AdminDevicesReply {
  devices: AdminDevice[];
}

/** `POST /api/admin/devices` body and reply: the token is shown this once. */
export interface AddDeviceRequest {
  deviceId: string;
}
export interface AddDeviceReply {
  deviceId: string;
  token: string;
}

/** `PATCH /api/admin/devices/:id` body: allow or stop reporting by identifier alone. */
export interface UpdateDeviceRequest {
  idOnly: boolean;
}

/** Which devices a user sees: every device, or the listed ones. */
export type DeviceGrant = "all" | string[];

/** The devices a role and grant amount to: admins always see every device, whatever was listed. */
export function effectiveGrant(role: Role, devices: DeviceGrant): DeviceGrant {
  return role === "admin" ? "all" : devices;
}

export interface AdminUser {
  name: string;
  role: Role;
  devices: DeviceGrant;
}

/** `GET /api/admin/users` */
export interface AdminUsersReply {
  users: AdminUser[];
}

/** `POST /api/admin/users` body; without a password one is generated and returned once. */
export interface AddUserRequest {
  name: string;
  role: Role;
  devices: DeviceGrant;
  password?: string;
}
export interface AddUserReply extends AdminUser {
  password: string;
}

/** `PATCH /api/admin/users/:name` body: the user's role and grants, replacing the old ones. */
export type SetAccessRequest = Pick<AddUserRequest, "role" | "devices">;

/** `POST /api/admin/users/:name/password` body: without a password one is generated. */
export interface ResetPasswordRequest {
  password?: string;
}
/** The new password, shown this once; the user's browser sessions have ended. */
export interface ResetPasswordReply {
  name: string;
  password: string;
}
