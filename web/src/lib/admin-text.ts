import type { AdminUser } from "../../../protocol/admin.ts";
import type { DeviceGrant } from "../../../protocol/api.ts";
import { formatCount } from "./format.ts";

/** The sentences the admin panel builds from what the server answered. */

/** "Remove sim-0001 and its 12,345 positions? This cannot be undone." */
export function removalQuestion(deviceId: string, positions: number): string {
  const what =
    positions === 0
      ? `${deviceId}? It has no stored positions.`
      : `${deviceId} and its ${formatCount(positions)} position${positions === 1 ? "" : "s"}?`;
  return `Remove ${what} This cannot be undone.`;
}

/** Device ids named in a user's row before "+ N more": the full list is in the tooltip. */
const SHOWN_IDS = 3;

function devicesText(devices: DeviceGrant): string {
  if (devices === "all") return "All devices";
  if (devices.length === 0) return "No devices";
  const more = devices.length - SHOWN_IDS;
  return devices.slice(0, SHOWN_IDS).join(", ") + (more > 0 ? ` + ${more} more` : "");
}

/** A user's grants in a line: devices, then groups (moot for whoever sees every device). */
export function grantText({ devices, groups }: Pick<AdminUser, "devices" | "groups">): string {
  if (devices === "all" || groups.length === 0) return devicesText(devices);
  const named = `${groups.length === 1 ? "group" : "groups"} ${groups.join(", ")}`;
  return devices.length === 0 ? named : `${devicesText(devices)}; ${named}`;
}

/** Every device and group granted, for the tooltip over the shortened line. */
export function grantTitle({
  devices,
  groups,
}: Pick<AdminUser, "devices" | "groups">): string | undefined {
  if (devices === "all") return undefined;
  const lines = [];
  if (devices.length) lines.push(`Devices: ${devices.join(", ")}`);
  if (groups.length) lines.push(`Groups: ${groups.join(", ")}`);
  return lines.join("\n") || undefined;
}
