import { z } from "zod";
import type { DeviceGrant, Role } from "./api.ts";
import { deviceIdSchema } from "./position.ts";

/**
 * The administration contract (`/api/admin`, the CLI, the admin panel): devices, groups and
 * people, with the rules their names follow. The server's services enforce these schemas; the
 * dashboard's forms check the same ones before sending. (Values the dashboard needs at run time,
 * such as `effectiveGrant`, live in api.ts, which does not load zod.)
 */

// ---- names -------------------------------------------------------------------------------

export const userNameSchema = z
  .string({ error: "must be a string" })
  .regex(/^[\w.@-]{1,64}$/, { error: "must be 1–64 letters, digits, _ . @ -" });

export const passwordSchema = z
  .string({ error: "must be a string" })
  .min(10, { error: "must be at least 10 characters" })
  .max(256, { error: "must be at most 256 characters" });

const isControl = (c: string) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f;

/** Printable text without surrounding spaces: what a person types as a label. */
const label = (max: number, extra: string) =>
  z
    .string({ error: "must be a string" })
    .min(1, { error: "must not be empty" })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => s.trim() === s, { error: "must not start or end with a space" })
    // Control characters break log lines and CSV exports; commas would split CLI lists.
    .refine((s) => ![...s].some(isControl) && !s.includes(","), {
      error: `must not contain control characters or commas${extra}`,
    });

export const deviceNameSchema = label(64, "");
export const groupNameSchema = label(64, "");
export const geofenceNameSchema = label(64, "");

// ---- devices and groups ------------------------------------------------------------------

export interface AdminDevice {
  deviceId: string;
  /** The display name, or null to show the id. */
  name: string | null;
  createdAt: number;
  hasToken: boolean;
  /** May report by its identifier alone, without a token (phone apps that cannot send one). */
  idOnly: boolean;
  /** Overspeed above this instead of the global limit (km/h); null: the global limit applies. */
  speedLimitKmh: number | null;
  /** Groups it belongs to, by name. */
  groups: string[];
}

/** `GET /api/admin/devices` */
export interface AdminDevicesReply {
  devices: AdminDevice[];
}

/** `GET /api/admin/devices/:id`: with the number of stored positions removing it would delete. */
export interface AdminDeviceDetail extends AdminDevice {
  positions: number;
}

/** `POST /api/admin/devices` body and reply: the token is shown this once. */
export interface AddDeviceRequest {
  deviceId: string;
  name?: string | null;
  idOnly?: boolean;
  groups?: string[];
}
export interface AddDeviceReply extends AdminDevice {
  token: string;
}

/** `PATCH /api/admin/devices/:id` body: any of these; the reply is the AdminDevice. */
export interface UpdateDeviceRequest {
  /** A new display name, or null to show the id again. */
  name?: string | null;
  /** Allow or stop reporting by identifier alone. */
  idOnly?: boolean;
  /** Its own speed limit in km/h, or null to fall back to the global one. */
  speedLimitKmh?: number | null;
  /** The groups it belongs to, replacing the old ones. */
  groups?: string[];
}

/** `DELETE /api/admin/devices/:id` reply: the device, its history and its grants are gone. */
export interface RemoveDeviceReply {
  deviceId: string;
  positionsRemoved: number;
}

export interface AdminGroup {
  name: string;
  createdAt: number;
  /** Its members, by device id. */
  devices: string[];
}

/** `GET /api/admin/groups`; `POST /api/admin/groups` `{ name }` answers one AdminGroup. */
export interface AdminGroupsReply {
  groups: AdminGroup[];
}

/** The fastest limit a device may be given: beyond it the number is a typo or a unit mistake. */
export const MAX_DEVICE_SPEED_LIMIT_KMH = 1000;

/** A device's own speed limit, in km/h as the global `--speed-limit-kmh` is. */
export const deviceSpeedLimitSchema = z
  .number({ error: "must be a number of km/h" })
  .refine(Number.isFinite, { error: "must be a finite number of km/h" })
  .gt(0, { error: "must be > 0 km/h" })
  .max(MAX_DEVICE_SPEED_LIMIT_KMH, {
    error: `must be at most ${MAX_DEVICE_SPEED_LIMIT_KMH} km/h`,
  });

export const deviceRequestSchemas = {
  add: z.strictObject({
    deviceId: deviceIdSchema,
    name: deviceNameSchema.nullable().optional(),
    idOnly: z.boolean({ error: "must be true or false" }).optional(),
    groups: z.array(groupNameSchema).max(100).optional(),
  }),
  update: z.strictObject({
    name: deviceNameSchema.nullable().optional(),
    idOnly: z.boolean({ error: "must be true or false" }).optional(),
    speedLimitKmh: deviceSpeedLimitSchema.nullable().optional(),
    groups: z.array(groupNameSchema).max(100).optional(),
  }),
  addGroup: z.strictObject({ name: groupNameSchema }),
};

// ---- people ------------------------------------------------------------------------------

export interface AdminUser {
  name: string;
  role: Role;
  devices: DeviceGrant;
  /** Groups whose members, present and future, the user sees too. */
  groups: string[];
}

/** `GET /api/admin/users` */
export interface AdminUsersReply {
  users: AdminUser[];
}

const roleSchema = z.enum(["admin", "viewer"], { error: 'must be "admin" or "viewer"' });
const grantSchema = z.union([z.literal("all"), z.array(deviceIdSchema).max(10_000)], {
  error: 'must be "all" or a list of device ids',
});

export const userRequestSchemas = {
  add: z.strictObject({
    name: userNameSchema,
    role: roleSchema,
    devices: grantSchema,
    groups: z.array(groupNameSchema).max(1000).optional(),
    password: passwordSchema.optional(),
  }),
  setAccess: z.strictObject({
    role: roleSchema,
    devices: grantSchema,
    groups: z.array(groupNameSchema).max(1000).optional(),
  }),
  resetPassword: z.strictObject({ password: passwordSchema.optional() }),
};

/** `POST /api/admin/users` body; without a password one is generated and returned once. */
export type AddUserRequest = z.input<typeof userRequestSchemas.add>;
export interface AddUserReply extends AdminUser {
  password: string;
}

/** `PATCH /api/admin/users/:name` body: the user's role and grants, replacing the old ones. */
export type SetAccessRequest = z.input<typeof userRequestSchemas.setAccess>;

/** `POST /api/admin/users/:name/password` body: without a password one is generated. */
export interface ResetPasswordRequest {
  password?: string;
}
/** The new password, shown this once; the user's browser sessions have ended. */
export interface ResetPasswordReply {
  name: string;
  password: string;
}
