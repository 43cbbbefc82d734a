import type { Stop, Trip } from "../../protocol/index.ts";
import { distanceM } from "../../protocol/geo.ts";
import type { Fix, StayListener, Thresholds } from "./stops.ts";

interface OpenTrip {
  start: Fix;
  distanceM: number;
  maxSpeed: number;
}

/**
 * Turns the stay detector's verdicts into trips, and adds up where the time and distance went.
 *
 * A trip runs from the last fix of a stop (or the first fix after a data gap, or of the range) to
 * the first fix of the next stop (or the last fix before a gap, or of the range). Its length is the
 * sum of its legs: a gap is never bridged by a straight line, because nobody knows the way taken.
 * Movements shorter than `tripMinM` (shunting in a car park, GPS drift between two stops) are not
 * listed as trips, but their legs still count as driving in the totals. A leg between two fixes
 * that both report a speed below `movingSpeed` adds time but no distance (GPS noise at a light).
 */
export class TripBuilder implements StayListener {
  readonly trips: Trip[] = [];
  readonly stops: Stop[] = [];
  /** Time and length of every leg between two fixes outside stops, gaps excluded. */
  drivingMs = 0;
  distanceM = 0;
  stoppedMs = 0;

  private trip: OpenTrip | null = null;
  /** The last fix seen: a moving fix, or the last fix of a stop. */
  private previous: Fix | null = null;

  constructor(private readonly thresholds: Thresholds) {}

  move(fix: Fix): void {
    const previous = this.previous;
    this.previous = fix;
    if (previous === null || this.isGap(previous, fix)) {
      if (previous) this.close(previous);
      this.trip = { start: fix, distanceM: 0, maxSpeed: fix[3] ?? 0 };
      return;
    }
    this.trip ??= { start: previous, distanceM: 0, maxSpeed: previous[3] ?? 0 };
    this.leg(this.trip, previous, fix);
  }

  stop(stop: Stop, first: Fix, last: Fix): void {
    const previous = this.previous;
    if (previous !== null) {
      if (this.isGap(previous, first)) {
        this.close(previous);
      } else {
        // Straight from one stop into the next: that one leg is the whole movement.
        this.trip ??= { start: previous, distanceM: 0, maxSpeed: previous[3] ?? 0 };
        this.leg(this.trip, previous, first);
        this.close(first);
      }
    }
    this.trip = null;
    this.previous = last;
    this.stops.push(stop);
    this.stoppedMs += stop.durationMs;
  }

  /** End of data: a trip still under way ends at the last fix. */
  finish(): void {
    if (this.previous) this.close(this.previous);
  }

  private leg(trip: OpenTrip, from: Fix, to: Fix): void {
    const measured = distanceM(from[1], from[2], to[1], to[2]);
    // Between two fixes that both report standing still (a red light, a queue) the position only
    // wanders with GPS noise: that is time driving but no distance, or an hour of traffic lights
    // would add kilometres.
    const metres = this.standing(from) && this.standing(to) ? 0 : measured;
    const ms = to[0] - from[0];
    trip.distanceM += metres;
    // A fix without a reported speed is judged by the speed its leg implies.
    const speed = to[3] ?? (ms > 0 ? (measured * 1000) / ms : 0);
    if (speed > trip.maxSpeed) trip.maxSpeed = speed;
    this.distanceM += metres;
    this.drivingMs += ms;
  }

  private close(end: Fix): void {
    const trip = this.trip;
    this.trip = null;
    if (!trip || trip.distanceM < this.thresholds.tripMinM || trip.distanceM === 0) return;
    const { start } = trip;
    const durationMs = end[0] - start[0];
    this.trips.push({
      start: start[0],
      end: end[0],
      durationMs,
      distanceM: trip.distanceM,
      maxSpeed: trip.maxSpeed,
      avgSpeed: durationMs > 0 ? (trip.distanceM * 1000) / durationMs : 0,
      startAt: { lat: start[1], lon: start[2] },
      endAt: { lat: end[1], lon: end[2] },
    });
  }

  private standing(fix: Fix): boolean {
    return fix[3] !== null && fix[3] < this.thresholds.movingSpeed;
  }

  private isGap(from: Fix, to: Fix): boolean {
    return to[0] - from[0] > this.thresholds.gapMs;
  }
}
