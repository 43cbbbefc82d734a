import CheapRuler from "cheap-ruler";

/**
 * Ground geometry shared by the server, the dashboard and the simulator: how far apart two fixes
 * are is decided here, once.
 */

/** A view rectangle in degrees: west, south, east, north. */
export interface Bbox {
  west: number;
  south: number;
  east: number;
  north: number;
}

/**
 * Metres per degree of longitude (kx) and latitude (ky) around `lat`, from WGS84's radii of
 * curvature (cheap-ruler): a local flat approximation within 0.1 % of Karney's exact geodesic for
 * legs under 500 km, at the cost of a multiply-add per leg where the exact solution costs
 * microseconds — a year of 1 Hz fixes is 31.5 million legs.
 */
export function metresPerDegree(lat: number): { kx: number; ky: number } {
  const { kx, ky } = new CheapRuler(lat, "meters");
  return { kx, ky };
}

// The factors of the last latitude asked about. Fixes come in runs along a track, so nearly every
// leg reuses them; they are refreshed once the latitude moves more than 0.01°, which keeps that
// drift's error under 0.02 % at any latitude below 80°.
let factorsLat = Number.NaN;
let kx = 0;
let ky = 0;

/** The cached factors for `lat`, refreshed when it moved more than 0.01° from the last one. */
function factorsAt(lat: number): void {
  if (!(Math.abs(lat - factorsLat) <= 0.01)) {
    ({ kx, ky } = metresPerDegree(lat));
    factorsLat = lat;
  }
}

/** Longitude difference the short way round across the antimeridian, in (-180, 180]. */
function lonDelta(lon1: number, lon2: number): number {
  const dLon = lon2 - lon1;
  if (dLon > 180) return dLon - 360;
  if (dLon < -180) return dLon + 360;
  return dLon;
}

/** Metres between two fixes (degrees), the short way round across the antimeridian. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  factorsAt(lat1);
  const dx = lonDelta(lon1, lon2) * kx;
  const dy = (lat2 - lat1) * ky;
  return Math.sqrt(dx * dx + dy * dy);
}

/**
 * Direction of travel from the first fix to the second, degrees clockwise from north in
 * [0, 360), on the same local flat approximation as `distanceM` (0 for the same point).
 */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  factorsAt(lat1);
  const degrees = (Math.atan2(lonDelta(lon1, lon2) * kx, (lat2 - lat1) * ky) * 180) / Math.PI;
  return (degrees + 360) % 360;
}
