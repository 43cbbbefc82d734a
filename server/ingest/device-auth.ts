import { deviceIdSchema, type DeviceAuth } from "../../protocol/index.ts";
import type { DeviceRegistry } from "../store/device-registry.ts";

export type AuthResult =
  { ok: true; deviceId: string } | { ok: false; code: string; message: string };

/**
 * Decides at the handshake whether a device may connect, and as whom: the identity is fixed for
 * the connection, so a device can only ever report as itself. Every transport uses this one check.
 */
export type DeviceAuthenticator = (auth: Partial<DeviceAuth> | undefined) => AuthResult;

/**
 * A device with a token must present it, unless an admin allowed it to report by identifier
 * alone (phone apps that cannot send a secret); a token that is presented is always checked.
 * A device without one is let in only with open registration (for trusted networks), which is
 * off by default.
 */
export function deviceAuthenticator(
  registry: DeviceRegistry,
  options: { openRegistration: boolean },
): DeviceAuthenticator {
  return (auth) => {
    const parsed = deviceIdSchema.safeParse(auth?.deviceId);
    if (!parsed.success) {
      return {
        ok: false,
        code: "invalid_device_id",
        message: `auth.deviceId ${parsed.error.issues[0]?.message ?? "is invalid"}`,
      };
    }
    const deviceId = parsed.data;
    const token = auth?.token;
    if (token !== undefined && (typeof token !== "string" || token.length > 256)) {
      return { ok: false, code: "invalid_token", message: "auth.token must be a string" };
    }
    switch (registry.verify(deviceId, token)) {
      case "match":
      case "id_only":
        return { ok: true, deviceId };
      case "mismatch":
        return {
          ok: false,
          code: "invalid_token",
          message: `wrong token for device "${deviceId}"`,
        };
      case "missing":
        return {
          ok: false,
          code: "token_required",
          message: `device "${deviceId}" must send its token`,
        };
      case "unknown":
        if (options.openRegistration) return { ok: true, deviceId };
        return {
          ok: false,
          code: "unknown_device",
          message: `device "${deviceId}" is not registered; an admin adds it with \`npm run locus -- device add ${deviceId}\``,
        };
    }
  };
}
