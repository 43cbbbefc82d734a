import CheapRuler from "cheap-ruler";
import type { DeviceStatus, Position } from "../../protocol/index.ts";

export interface StatusRules {
  offlineAfterMs: number;
  movingSpeed: number;
}

/**
 * Speed of a fix: what the device reported, else what the displacement from the previous fix
 * implies (phones in power-saving modes often omit speed).
 */
export function effectiveSpeed(current: Position, previous: Position | null): number {
  if (current.speed !== undefined) return current.speed;
  if (!previous || current.ts <= previous.ts) return 0;
  const ruler = new CheapRuler(current.lat, "meters");
  const metres = ruler.distance([previous.lon, previous.lat], [current.lon, current.lat]);
  return metres / ((current.ts - previous.ts) / 1000);
}

export function deviceStatus(
  speed: number,
  lastSeen: number,
  now: number,
  rules: StatusRules,
): DeviceStatus {
  if (now - lastSeen > rules.offlineAfterMs) return "offline";
  return speed >= rules.movingSpeed ? "moving" : "stopped";
}
