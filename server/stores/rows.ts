import type { Bbox } from "../../protocol/geo.ts";
import type { Position, PositionRow, TrackPoint } from "../../protocol/index.ts";

/**
 * Rebuild the contract's Position from a row (ts, lat, lon, speed, course, alt, accuracy, battery,
 * attributes as JSON text), leaving out what the device never sent. Every store reads rows back
 * in this order.
 */
export function toPosition(row: PositionRow): Position {
  const [ts, lat, lon, speed, course, alt, accuracy, battery, attributes] = row;
  const p: Position = { ts, lat, lon };
  if (speed !== null) p.speed = speed;
  if (course !== null) p.course = course;
  if (alt !== null) p.alt = alt;
  if (accuracy !== null) p.accuracy = accuracy;
  if (battery !== null) p.battery = battery;
  if (attributes !== null) p.attributes = JSON.parse(attributes) as Position["attributes"];
  return p;
}

/** The box around points (a track hour and the fix before it). */
export function boxOf(points: readonly TrackPoint[]): Bbox {
  const box = { south: Infinity, north: -Infinity, west: Infinity, east: -Infinity };
  for (const [, lat, lon] of points) {
    if (lat < box.south) box.south = lat;
    if (lat > box.north) box.north = lat;
    if (lon < box.west) box.west = lon;
    if (lon > box.east) box.east = lon;
  }
  return box;
}
