import { deviceIdSchema, type DeviceAuth } from "../../protocol/index.ts";

export type AuthResult =
  { ok: true; deviceId: string } | { ok: false; code: string; message: string };

/**
 * Decides at the handshake whether a device may connect, and as whom. Today every well-formed
 * device id is let in and the token is carried but not checked; device tokens replace this one
 * function without touching the transports.
 */
export type DeviceAuthenticator = (auth: Partial<DeviceAuth> | undefined) => AuthResult;

export const openRegistration: DeviceAuthenticator = (auth) => {
  const parsed = deviceIdSchema.safeParse(auth?.deviceId);
  if (!parsed.success) {
    return {
      ok: false,
      code: "invalid_device_id",
      message: `auth.deviceId ${parsed.error.issues[0]?.message ?? "is invalid"}`,
    };
  }
  if (auth?.token !== undefined && typeof auth.token !== "string") {
    return { ok: false, code: "invalid_token", message: "auth.token must be a string" };
  }
  return { ok: true, deviceId: parsed.data };
};
