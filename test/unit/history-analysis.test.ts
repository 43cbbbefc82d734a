import { describe, expect, it } from "vitest";
import { analyzeTrack, type Fix, type Thresholds } from "../../server/history/analysis.ts";

const T: Thresholds = {
  stopMs: 3 * 60_000,
  stopRadiusM: 200,
  tripMinM: 200,
  gapMs: 5 * 60_000,
  movingSpeed: 1,
};
const T0 = Date.UTC(2026, 0, 5, 8);
const M_PER_DEG_LAT = 111_250; // near 52.5°N; the tests allow for the difference

/** A scripted 1 Hz track: drive north, wait, jump; with its own clock and position. */
class Script {
  readonly fixes: Fix[] = [];
  ts = T0;
  lat = 52.5;
  lon = 13.4;
  constructor(private readonly withSpeed = true) {}
  private fix(speed: number, jitterM = 0): void {
    const j = jitterM * Math.sin(this.ts / 7_000);
    this.fixes.push([
      this.ts,
      this.lat + j / M_PER_DEG_LAT,
      this.lon,
      this.withSpeed ? speed : null,
    ]);
  }
  drive(seconds: number, speed = 10): this {
    for (let i = 0; i < seconds; i++) {
      this.fix(speed);
      this.ts += 1000;
      this.lat += speed / M_PER_DEG_LAT;
    }
    return this;
  }
  wait(seconds: number): this {
    for (let i = 0; i < seconds; i++) {
      this.fix(0, 4);
      this.ts += 1000;
    }
    return this;
  }
  silence(seconds: number, movedM = 0): this {
    this.ts += seconds * 1000;
    this.lat += movedM / M_PER_DEG_LAT;
    return this;
  }
}

describe("stops, trips and totals", () => {
  it("finds a parking as a stop and the drives around it as trips", () => {
    const s = new Script().drive(600);
    const parkedAt = s.ts;
    s.wait(300);
    const leftAt = s.ts;
    s.drive(600);
    const { stops, trips, totals } = analyzeTrack(s.fixes, T);
    expect(stops).toHaveLength(1);
    expect(stops[0]!.start).toBe(parkedAt);
    expect(stops[0]!.end).toBe(leftAt - 1000); // the last fix at rest
    expect(trips).toHaveLength(2);
    expect(trips[0]!.end).toBe(stops[0]!.start);
    expect(trips[1]!.start).toBe(stops[0]!.end);
    expect(trips[0]!.distanceM).toBeCloseTo(6000, -2);
    expect(trips[0]!.maxSpeed).toBe(10);
    expect(trips[0]!.avgSpeed).toBeCloseTo(10, 0);
    expect(totals).toMatchObject({ positions: 1500, gaps: 0, maxSpeed: 10 });
    expect(totals.stoppedMs).toBe(299_000);
    expect(totals.drivingMs + totals.stoppedMs).toBe(s.fixes.at(-1)![0] - T0);
    // GPS jitter while parked is not travel.
    expect(totals.distanceM).toBeCloseTo(12_000, -2);
  });

  it("does not count a red light on the way in as part of the stop, nor a short halt as a stop", () => {
    const s = new Script().drive(120).wait(40).drive(10, 5);
    const parkedAt = s.ts;
    s.wait(200).drive(60).wait(170).drive(60); // 170 s: under the 3 min threshold
    const { stops, trips } = analyzeTrack(s.fixes, T);
    expect(stops.map((x) => x.start)).toEqual([parkedAt]);
    expect(trips).toHaveLength(2);
  });

  it("without speeds, a stop is the plain stay: every fix within the radius for 3 min", () => {
    const s = new Script(false).drive(300);
    const parkedAt = s.ts;
    s.wait(400).drive(300);
    const { stops, trips } = analyzeTrack(s.fixes, T);
    expect(stops).toHaveLength(1);
    // The approach within 200 m of the parking place counts into the stay (at most 20 s here).
    expect(parkedAt - stops[0]!.start).toBeLessThanOrEqual(20_000);
    expect(stops[0]!.durationMs).toBeGreaterThanOrEqual(399_000);
    expect(trips).toHaveLength(2);
  });

  it("a tracker that sleeps while parked and wakes at the same place was stopped all along", () => {
    const s = new Script().drive(300).wait(5).silence(3600).wait(5).drive(300);
    const { stops, trips, totals } = analyzeTrack(s.fixes, T);
    expect(stops).toHaveLength(1);
    expect(stops[0]!.durationMs).toBeGreaterThan(3600_000);
    expect(trips).toHaveLength(2);
    expect(totals.gaps).toBe(1);
  });

  it("a gap across which the device moved ends the trip and is never bridged", () => {
    const s = new Script().drive(300).silence(1800, 20_000).drive(300);
    const { stops, trips, totals } = analyzeTrack(s.fixes, T);
    expect(stops).toHaveLength(0);
    expect(trips).toHaveLength(2);
    expect(trips[0]!.end).toBe(T0 + 299_000);
    expect(trips[1]!.start).toBe(T0 + 300_000 + 1_800_000);
    expect(totals.gaps).toBe(1);
    expect(totals.distanceM).toBeCloseTo(5980, -2); // 2 × 299 legs of 10 m, the 20 km jump left out
    expect(totals.drivingMs).toBe(2 * 299_000);
  });

  it("moving off ends a stop; a short move between two stops is no trip but counts as driving", () => {
    const s = new Script().wait(200).drive(10, 5).wait(200);
    const { stops, trips, totals } = analyzeTrack(s.fixes, T);
    expect(stops).toHaveLength(2);
    expect(stops[1]!.start - stops[0]!.end).toBe(11_000);
    expect(trips).toHaveLength(0); // 50 m is under the 200 m trip minimum
    expect(totals.drivingMs).toBe(11_000);
    expect(totals.distanceM).toBeCloseTo(50, -1);
    expect(totals.maxSpeed).toBe(5);
  });

  it("one moving fix in the middle of a parking is a glitch, not a departure", () => {
    const s = new Script().wait(200).drive(1, 3).wait(200);
    const { stops, trips } = analyzeTrack(s.fixes, T);
    expect(stops).toHaveLength(1);
    expect(stops[0]!.durationMs).toBe(400_000);
    expect(trips).toHaveLength(0);
  });

  it("reports an empty range as zeros with no top speed", () => {
    expect(analyzeTrack([], T)).toEqual({
      stops: [],
      trips: [],
      totals: { positions: 0, distanceM: 0, drivingMs: 0, stoppedMs: 0, maxSpeed: null, gaps: 0 },
    });
  });

  it("judges a fix without a speed by the speed its leg implies", () => {
    const s = new Script(false).drive(100, 20);
    expect(analyzeTrack(s.fixes, T).totals.maxSpeed).toBeCloseTo(20, 0);
  });
});
