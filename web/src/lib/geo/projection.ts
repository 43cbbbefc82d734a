/**
 * Web Mercator (EPSG:3857, the CRS Leaflet maps use by default) in "world pixels at zoom 0": the
 * whole world is a 256 × 256 square, x growing east and y growing south. Vehicles are projected
 * once per fix; any zoom and pan is then one multiply and one add per axis, which lets the canvas
 * layer place 5,000 vehicles per frame without allocating a point each.
 *
 * Plain math, no Leaflet: the fleet state projects fixes as they arrive, and state must not
 * depend on the map layer (the map reads state, never the other way round). The formulas are
 * Leaflet's own (SphericalMercator plus EPSG3857's transformation), so both agree to the last bit
 * that matters.
 */

/** World pixels per side at zoom 0 (Leaflet's tile size). */
export const WORLD_SIZE = 256;
/** Where Web Mercator stops: the latitude that makes the world square. */
const MAX_LATITUDE = 85.0511287798;
const RAD = Math.PI / 180;

export interface WorldPoint {
  x: number;
  y: number;
}

/** Project into `out` rather than return a fresh object: called for every fix of every vehicle. */
export function projectToWorld(lat: number, lon: number, out: WorldPoint): void {
  const clamped = Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat));
  const sin = Math.sin(clamped * RAD);
  out.x = WORLD_SIZE * (lon / 360 + 0.5);
  out.y = WORLD_SIZE * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI));
}

/** Inverse of `projectToWorld`, as a Leaflet-compatible `{ lat, lng }` literal. */
export function worldToLatLng(x: number, y: number): { lat: number; lng: number } {
  const mercatorY = 2 * Math.PI * (0.5 - y / WORLD_SIZE);
  return {
    lat: (2 * Math.atan(Math.exp(mercatorY)) - Math.PI / 2) / RAD,
    lng: (x / WORLD_SIZE - 0.5) * 360,
  };
}
