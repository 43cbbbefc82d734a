import CheapRuler from "cheap-ruler";

/**
 * Lengths of the short legs between consecutive fixes, on the WGS84 ellipsoid.
 *
 * cheap-ruler approximates the ellipsoid locally around one latitude (its scale factors come from
 * WGS84's radii of curvature), within 0.1 % of Karney's exact geodesic for legs under 500 km; the
 * test in test/unit/history-geodesy.test.ts checks it against geographiclib on real-sized legs. It
 * costs a multiply-add per leg, where the exact solution costs microseconds: a year of 1 Hz fixes
 * is 31.5 million legs. The scale factors are refreshed whenever the track has moved more than
 * 0.01° of latitude from the ruler's, which keeps that drift's error under 0.02 % at any latitude
 * below 80°.
 */
export class LegRuler {
  private baseLat = Number.NaN;
  private kx = 0;
  private ky = 0;

  /** Metres between two fixes. */
  distance(lat1: number, lon1: number, lat2: number, lon2: number): number {
    if (!(Math.abs(lat1 - this.baseLat) <= 0.01)) {
      const ruler = new CheapRuler(lat1, "meters");
      this.baseLat = lat1;
      this.kx = ruler.kx;
      this.ky = ruler.ky;
    }
    let dLon = lon2 - lon1;
    // Across the antimeridian the short way round is the one travelled.
    if (dLon > 180) dLon -= 360;
    else if (dLon < -180) dLon += 360;
    const dx = dLon * this.kx;
    const dy = (lat2 - lat1) * this.ky;
    return Math.sqrt(dx * dx + dy * dy);
  }
}
