import { deviceIdSchema, describeIssue, type AdminDevice } from "../../protocol/index.ts";
import type { DeviceRecord } from "../stores/ports.ts";
import { LocusError } from "./errors.ts";

// A device at the edges: the id a request names, and the record an admin is shown (REST and CLI).

export function toAdminDevice(d: DeviceRecord): AdminDevice {
  return {
    deviceId: d.deviceId,
    name: d.name,
    createdAt: d.createdAt,
    hasToken: d.tokenHash !== null,
    idOnly: d.idOnly,
    // m/s inside, km/h at the edges (as the global limit); rounded so 80 stays 80.
    speedLimitKmh: d.speedLimit === null ? null : Math.round(d.speedLimit * 3.6 * 1000) / 1000,
    groups: d.groups,
  };
}

/** A device id from a path or a form, or an error naming the field and the rule. */
export function parseDeviceId(
  raw: unknown,
  field = "deviceId",
  code: "bad_request" | "invalid_device_id" = "bad_request",
): string {
  const parsed = deviceIdSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new LocusError(code, describeIssue(parsed.error.issues[0]).message, { field });
}
