import type { Bbox } from "../../protocol/geo.ts";

/** Equatorial circumference of the WGS84 ellipsoid as Web Mercator uses it (metres). */
const EARTH_CIRCUMFERENCE_M = 2 * Math.PI * 6_378_137;
const TILE_SIZE_PX = 256;

/** Ground metres one screen pixel covers at `zoom` and `lat` on a Web Mercator 256-px tile map. */
export function metresPerPixel(zoom: number, lat: number): number {
  return (EARTH_CIRCUMFERENCE_M * Math.cos((lat * Math.PI) / 180)) / (TILE_SIZE_PX * 2 ** zoom);
}

export function inBox(box: Bbox, lat: number, lon: number): boolean {
  return lat >= box.south && lat <= box.north && lon >= box.west && lon <= box.east;
}

/**
 * Whether the straight line between two fixes crosses the rectangle (Liang–Barsky clipping in
 * degrees: at the scale where a straight segment between two fixes matters, that is the screen).
 */
export function segmentCrossesBox(
  box: Bbox,
  lat1: number,
  lon1: number,
  lat2: number,
  lon2: number,
): boolean {
  const dx = lon2 - lon1;
  const dy = lat2 - lat1;
  let t0 = 0;
  let t1 = 1;
  const edges: [number, number][] = [
    [-dx, lon1 - box.west],
    [dx, box.east - lon1],
    [-dy, lat1 - box.south],
    [dy, box.north - lat1],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const r = q / p;
    if (p < 0) t0 = Math.max(t0, r);
    else t1 = Math.min(t1, r);
    if (t0 > t1) return false;
  }
  return true;
}
