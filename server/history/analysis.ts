import type { Stop, SummaryReply, Trip } from "../../protocol/index.ts";
import type { Config } from "../config.ts";
import { StayDetector, type Fix, type Thresholds } from "./stops.ts";
import { RawTotals } from "./summary.ts";
import { TripBuilder } from "./trips.ts";

export type { Fix, Thresholds } from "./stops.ts";

export type TrackTotals = Omit<SummaryReply, "deviceId" | "from" | "to">;

export interface TrackAnalysisResult {
  stops: Stop[];
  trips: Trip[];
  totals: TrackTotals;
}

export function thresholdsFrom(config: Readonly<Config>): Thresholds {
  return {
    stopMs: config.stopMinutes * 60_000,
    stopRadiusM: config.stopRadiusM,
    tripMinM: config.tripMinM,
    gapMs: config.gapMinutes * 60_000,
    movingSpeed: config.movingSpeed,
  };
}

/**
 * Stops, trips and totals of one device's fixes in ONE pass, fed in time order with `add()`:
 * memory stays bounded whatever the range (see StayDetector), so a year of 1 Hz fixes streams
 * through in pages from the store.
 */
export class TrackAnalysis {
  private readonly raw: RawTotals;
  private readonly trips: TripBuilder;
  private readonly stays: StayDetector;

  constructor(thresholds: Thresholds) {
    this.raw = new RawTotals(thresholds.gapMs);
    this.trips = new TripBuilder(thresholds);
    this.stays = new StayDetector(thresholds, this.trips);
  }

  add(fix: Fix): void {
    this.raw.push(fix);
    this.stays.push(fix);
  }

  finish(): TrackAnalysisResult {
    this.stays.finish();
    this.trips.finish();
    const { raw, trips } = this;
    return {
      stops: trips.stops,
      trips: trips.trips,
      totals: {
        positions: raw.positions,
        distanceM: trips.distanceM,
        drivingMs: trips.drivingMs,
        stoppedMs: trips.stoppedMs,
        maxSpeed: raw.maxSpeed,
        gaps: raw.gaps,
      },
    };
  }
}

/** The whole analysis of fixes already at hand (tests, small ranges). */
export function analyzeTrack(fixes: Iterable<Fix>, thresholds: Thresholds): TrackAnalysisResult {
  const analysis = new TrackAnalysis(thresholds);
  for (const fix of fixes) analysis.add(fix);
  return analysis.finish();
}
