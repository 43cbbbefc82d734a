import type { FenceShape, LatLon } from "../../../../protocol/geofence.ts";
import { distanceM, metresPerDegree } from "../../../../protocol/geo.ts";

/**
 * Plain geometry for fences as the dashboard draws and edits them: where a shape is, how big,
 * moving it, and metres on screen. Distances come from protocol/geo.ts, the one distance function,
 * so what the editor measures is what the server will check.
 */

export interface LatLonBounds {
  south: number;
  west: number;
  north: number;
  east: number;
}

/** Equatorial circumference of Web Mercator's sphere, metres. */
const EARTH_CIRCUMFERENCE_M = 40_075_016.686;

/** Ground metres one screen pixel covers at this latitude and zoom (Web Mercator, 256 px tiles). */
export function metresPerPixel(lat: number, zoom: number): number {
  return (EARTH_CIRCUMFERENCE_M * Math.cos((lat * Math.PI) / 180)) / 2 ** (zoom + 8);
}

/** Six decimals: about 0.1 m, finer than any GPS, and tidy in a request or a GeoJSON file. */
export function roundCoord(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** A longitude brought back into [-180, 180] (Leaflet's world copies go beyond it). */
export function wrapLon(lon: number): number {
  const wrapped = ((((lon + 180) % 360) + 360) % 360) - 180;
  return wrapped === -180 && lon > 0 ? 180 : wrapped;
}

export function vertex(lat: number, lon: number): LatLon {
  return { lat: roundCoord(Math.max(-90, Math.min(90, lat))), lon: roundCoord(wrapLon(lon)) };
}

/** The vertices that define the shape: the circle's centre, the ring, the line. */
export function shapePoints(shape: FenceShape): LatLon[] {
  if (shape.type === "circle") return [shape.center];
  return shape.type === "polygon" ? shape.ring : shape.line;
}

/** What the shape covers, grown by its radius or half width. */
export function shapeBounds(shape: FenceShape): LatLonBounds {
  const points = shapePoints(shape);
  let south = Infinity;
  let north = -Infinity;
  let west = Infinity;
  let east = -Infinity;
  for (const p of points) {
    south = Math.min(south, p.lat);
    north = Math.max(north, p.lat);
    west = Math.min(west, p.lon);
    east = Math.max(east, p.lon);
  }
  const grow =
    shape.type === "circle" ? shape.radius : shape.type === "corridor" ? shape.width / 2 : 0;
  if (grow > 0) {
    const { kx, ky } = metresPerDegree((south + north) / 2);
    south -= grow / ky;
    north += grow / ky;
    west -= grow / kx;
    east += grow / kx;
  }
  return { south, west, north, east };
}

/** The middle of the shape's vertices: where its move handle sits. */
export function shapeCentre(shape: FenceShape): LatLon {
  if (shape.type === "circle") return shape.center;
  const points = shapePoints(shape);
  let lat = 0;
  let lon = 0;
  for (const p of points) {
    lat += p.lat;
    lon += p.lon;
  }
  return { lat: lat / points.length, lon: lon / points.length };
}

/** The same shape moved by this many degrees. */
export function translateShape(shape: FenceShape, dLat: number, dLon: number): FenceShape {
  const move = (p: LatLon) => vertex(p.lat + dLat, p.lon + dLon);
  if (shape.type === "circle") return { ...shape, center: move(shape.center) };
  if (shape.type === "polygon") return { ...shape, ring: shape.ring.map(move) };
  return { ...shape, line: shape.line.map(move) };
}

/** Ground metres between two vertices. */
export function metresBetween(a: LatLon, b: LatLon): number {
  return distanceM(a.lat, a.lon, b.lat, b.lon);
}

/** A size that reads well (1, 2 or 5 times a power of ten), at least `min`. */
export function niceMetres(metres: number, min = 5): number {
  if (!(metres > min)) return min;
  const power = 10 ** Math.floor(Math.log10(metres));
  const step = [1, 2, 5, 10].find((f) => f * power >= metres * 0.75) ?? 10;
  return Math.max(min, step * power);
}

/** "850 m", "1.2 km", "12 km": a radius or width in a sentence. */
export function formatDistance(metres: number): string {
  if (metres < 1000) return `${Math.round(metres)} m`;
  const km = metres / 1000;
  return `${km < 10 ? km.toFixed(1).replace(/\.0$/, "") : Math.round(km)} km`;
}

/**
 * The ring's edges a self-intersection message names (protocol/fence-geometry.ts says "edges 2
 * and 5 cross"; edge i runs from vertex i to the next), so the editor can paint them.
 */
export function crossingEdges(rule: string): [number, number] | null {
  const match = /edges (\d+) and (\d+)/.exec(rule);
  return match ? [Number(match[1]), Number(match[2])] : null;
}
