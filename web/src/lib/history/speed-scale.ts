import type { TrackPoint } from "../../../../protocol/history.ts";
import { stretchSpeed } from "./track.ts";

/**
 * The track's colours by speed: the one scale the map's line, the legend and the chart all read.
 * A handful of bands rather than a continuous ramp: the map then needs one polyline per run of
 * equal colour (a few hundred for a long track), not one per vertex, and the legend can say what
 * each colour means.
 *
 * The colours are viridis (matplotlib's perceptually uniform map) at six even steps from 0 to
 * 0.9: lightness rises with speed, so the bands stay apart for colour-blind viewers too
 * (test/unit/speed-colours.test.ts checks them under simulated protan, deutan and tritan
 * vision). The palest tenth of viridis is left out: it vanishes against the line's white casing.
 */
export interface SpeedBand {
  /** Lower bound, km/h (inclusive). */
  minKmh: number;
  color: string;
  label: string;
}

export const SPEED_BANDS: readonly SpeedBand[] = [
  { minKmh: 0, color: "#440154", label: "< 5" },
  { minKmh: 5, color: "#433e85", label: "5–30" },
  { minKmh: 30, color: "#2e6f8e", label: "30–50" },
  { minKmh: 50, color: "#1f9a8a", label: "50–80" },
  { minKmh: 80, color: "#4ec36b", label: "80–110" },
  { minKmh: 110, color: "#bddf26", label: "110+" },
];

/** Band index of a speed in m/s; null speeds count as standing still. */
export function speedBand(metresPerSecond: number | null): number {
  const kmh = (metresPerSecond ?? 0) * 3.6;
  let band = 0;
  for (let i = 1; i < SPEED_BANDS.length; i++) if (kmh >= SPEED_BANDS[i]!.minKmh) band = i;
  return band;
}

/** Speed along the stretch from a to b (see stretchSpeed). */
export function edgeSpeed(a: TrackPoint, b: TrackPoint): number | null {
  return stretchSpeed(a, b);
}

export interface BandRun {
  band: number;
  /** [lat, lon] vertices; consecutive runs share their joining vertex so the line is unbroken. */
  latlngs: [number, number][];
}

/** Cut one segment into runs of the same speed band. */
export function bandRuns(segment: readonly TrackPoint[]): BandRun[] {
  const runs: BandRun[] = [];
  if (segment.length === 1) {
    const p = segment[0]!;
    return [{ band: speedBand(p[3]), latlngs: [[p[1], p[2]]] }];
  }
  let current: BandRun | null = null;
  for (let i = 1; i < segment.length; i++) {
    const a = segment[i - 1]!;
    const b = segment[i]!;
    const band = speedBand(edgeSpeed(a, b));
    if (!current || current.band !== band) {
      current = { band, latlngs: [[a[1], a[2]]] };
      runs.push(current);
    }
    current.latlngs.push([b[1], b[2]]);
  }
  return runs;
}
