import { distanceM } from "../../protocol/geo.ts";
import type { DeviceStatus, Position } from "../../protocol/index.ts";

export interface StatusRules {
  offlineAfterMs: number;
  movingSpeed: number;
}

/** How fast a device is taken to be going, and until when (server time) that is believed. */
export interface Motion {
  speed: number;
  until: number;
}

/**
 * A speed derived from two fixes (the device sent none) is believed for twice the time between
 * them, at least this long: a phone in a power-saving mode reports while it moves and goes quiet
 * once it stops, and without this it would stay "moving" until it went offline.
 */
const MIN_DERIVED_HOLD_MS = 30_000;

/**
 * The motion a fix shows: the speed the device reported (believed until the next fix), else the
 * displacement from the previous fix over the time between them (phones in power-saving modes
 * often omit speed), believed for a while after.
 */
export function motionOf(current: Position, previous: Position | null, receivedAt: number): Motion {
  if (current.speed !== undefined) return { speed: current.speed, until: Infinity };
  if (!previous || current.ts <= previous.ts) return { speed: 0, until: Infinity };
  const intervalMs = current.ts - previous.ts;
  const metres = distanceM(previous.lat, previous.lon, current.lat, current.lon);
  return {
    speed: metres / (intervalMs / 1000),
    until: receivedAt + Math.max(MIN_DERIVED_HOLD_MS, 2 * intervalMs),
  };
}

export function deviceStatus(
  motion: Motion,
  lastSeen: number,
  now: number,
  rules: StatusRules,
): DeviceStatus {
  if (now - lastSeen > rules.offlineAfterMs) return "offline";
  return motion.speed >= rules.movingSpeed && now <= motion.until ? "moving" : "stopped";
}
