import { metresPerDegree } from "./geo.ts";

/**
 * The local flat plane every fence is measured on (fence-geometry.ts, fence-checks.ts).
 *
 * The projection: x = east, y = north, in metres from the centre of the fence's bbox, with the
 * cheap-ruler factors of that centre's latitude (protocol/geo.ts), longitudes taken the short way
 * round across the antimeridian. It is affine, so a straight move in degrees is a straight move in
 * metres, and every distance below is an exact Euclidean distance in that plane: 1-Lipschitz,
 * which is what lets `trace` stride along a move without stepping over a crossing.
 */

export interface Vertex {
  lat: number;
  lon: number;
}

export type Shape =
  | { type: "circle"; center: Vertex; radius: number }
  | { type: "polygon"; ring: Vertex[] }
  | { type: "corridor"; line: Vertex[]; width: number };

/** Longitude difference the short way round across the antimeridian, in (-180, 180]. */
export function lonDelta(lon1: number, lon2: number): number {
  const dLon = lon2 - lon1;
  if (dLon > 180) return dLon - 360;
  if (dLon < -180) return dLon + 360;
  return dLon;
}

/** A longitude brought back into [-180, 180] (inputs within one turn of it). */
export function wrapLon(lon: number): number {
  if (lon > 180) return lon - 360;
  if (lon < -180) return lon + 360;
  return lon;
}

/** The shape projected onto its local plane. */
export interface Plane {
  lat0: number;
  lon0: number;
  kx: number;
  ky: number;
  /** The vertices (or the circle's centre) in metres. */
  xs: Float64Array;
  ys: Float64Array;
  /** What the shape covers, in metres, grown by the radius or half width. */
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function project(shape: Shape): Plane {
  const points =
    shape.type === "circle" ? [shape.center] : shape.type === "polygon" ? shape.ring : shape.line;
  const grow =
    shape.type === "circle" ? shape.radius : shape.type === "corridor" ? shape.width / 2 : 0;
  // The centre of the vertices' bbox, longitudes measured from the first vertex the short way.
  const first = points[0] ?? { lat: 0, lon: 0 };
  let minDLon = 0;
  let maxDLon = 0;
  let minLat = first.lat;
  let maxLat = first.lat;
  for (const p of points) {
    const dLon = lonDelta(first.lon, p.lon);
    if (dLon < minDLon) minDLon = dLon;
    if (dLon > maxDLon) maxDLon = dLon;
    if (p.lat < minLat) minLat = p.lat;
    if (p.lat > maxLat) maxLat = p.lat;
  }
  const lat0 = (minLat + maxLat) / 2;
  const lon0 = wrapLon(first.lon + (minDLon + maxDLon) / 2);
  const { kx, ky } = metresPerDegree(lat0);
  const xs = new Float64Array(points.length);
  const ys = new Float64Array(points.length);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  points.forEach((p, i) => {
    const x = lonDelta(lon0, p.lon) * kx;
    const y = (p.lat - lat0) * ky;
    xs[i] = x;
    ys[i] = y;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  });
  return {
    lat0,
    lon0,
    kx,
    ky,
    xs,
    ys,
    minX: minX - grow,
    minY: minY - grow,
    maxX: maxX + grow,
    maxY: maxY + grow,
  };
}

export const extentOf = (plane: Plane) =>
  Math.hypot(plane.maxX - plane.minX, plane.maxY - plane.minY);

/** Twice the signed area of the ring (shoelace), counter-clockwise positive. */
export function doubleArea(xs: Float64Array, ys: Float64Array): number {
  const n = xs.length;
  let sum = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) sum += xs[j]! * ys[i]! - xs[i]! * ys[j]!;
  return sum;
}
