import { describe, expect, it } from "vitest";
import type { TrackPoint } from "../../protocol/history.ts";
import { chartSpan, niceCeil, timeToX, xToTime } from "../../web/src/lib/history/chart.ts";
import { advance, playStart } from "../../web/src/lib/history/playback.ts";
import { bandRuns, speedBand, SPEED_BANDS } from "../../web/src/lib/history/speed-scale.ts";
import {
  lastAtOrBefore,
  makeTrack,
  pinStops,
  sampleTrack,
  sampleTracks,
  trackBounds,
} from "../../web/src/lib/history/track.ts";

const p = (
  ts: number,
  lat: number,
  lon: number,
  speed: number | null = null,
  course: number | null = null,
  alt: number | null = null,
): TrackPoint => [ts, lat, lon, speed, alt, course];

// Due east along the equator-ish, then a gap, then north.
const track = makeTrack([
  [
    p(0, 50, 10, 10, 90, 100),
    p(10_000, 50, 10.001, 20, 90, 200),
    p(20_000, 50, 10.002, 30, 90, 300),
  ],
  [p(100_000, 50.001, 10.002, 5, 0), p(110_000, 50.002, 10.002, 5, 0)],
]);

describe("replay interpolation", () => {
  it("binary-searches sorted times", () => {
    const times = [0, 10, 20, 30];
    expect(lastAtOrBefore(times, -1)).toBe(-1);
    expect(lastAtOrBefore(times, 0)).toBe(0);
    expect(lastAtOrBefore(times, 25)).toBe(2);
    expect(lastAtOrBefore(times, 99)).toBe(3);
  });

  it("interpolates position, speed and altitude between two fixes", () => {
    const s = sampleTrack(track, 5_000)!;
    expect(s.lat).toBeCloseTo(50, 9);
    expect(s.lon).toBeCloseTo(10.0005, 9);
    expect(s.speed).toBeCloseTo(15);
    expect(s.alt).toBeCloseTo(150);
    expect(s.heading).toBeCloseTo(90, 0);
    expect(s.inGap).toBe(false);
  });

  it("points along the line between fixes, not the course the device reported", () => {
    const s = sampleTrack(track, 105_000)!;
    expect(s.heading).toBeCloseTo(0, 0);
    // A device heading south-west whose fixes go north: the drawn line wins.
    const odd = makeTrack([[p(0, 50, 10, 5, 225), p(10_000, 50.001, 10, 5, 225)]]);
    expect(sampleTrack(odd, 5_000)!.heading).toBeCloseTo(0, 0);
  });

  it("keeps the reported course while parked, and has no heading without one", () => {
    const parked = makeTrack([[p(0, 50, 10, 0, 270), p(60_000, 50, 10, 0, 270)]]);
    expect(sampleTrack(parked, 30_000)!.heading).toBe(270);
    const bare = makeTrack([[p(0, 50, 10), p(60_000, 50, 10)]]);
    expect(sampleTrack(bare, 30_000)!.heading).toBeNull();
  });

  it("implies the speed from distance and time when the device sent none", () => {
    const bare = makeTrack([[p(0, 50, 10), p(10_000, 50.001, 10)]]);
    // 0.001° of latitude is about 111 m, in 10 s.
    expect(sampleTrack(bare, 5_000)!.speed).toBeCloseTo(11.1, 0);
  });

  it("waits at the last fix through a gap instead of crossing it", () => {
    const s = sampleTrack(track, 60_000)!;
    expect(s).toMatchObject({ lat: 50, lon: 10.002, inGap: true, speed: 0 });
    expect(sampleTrack(track, -5)).toMatchObject({ lat: 50, lon: 10, inGap: true });
    expect(sampleTrack(track, 999_999)).toMatchObject({ lat: 50.002, inGap: true });
    expect(sampleTrack(makeTrack([]), 0)).toBeNull();
  });

  it("prefers the detailed track where it has data, the overview elsewhere", () => {
    const detail = makeTrack([[p(0, 50, 10), p(10_000, 50, 10.0012)]]);
    expect(sampleTracks([detail, track], 5_000)!.lon).toBeCloseTo(10.0006, 9);
    expect(sampleTracks([detail, track], 105_000)!.lat).toBeCloseTo(50.0015, 9);
    expect(sampleTracks([null, track], 105_000)!.lat).toBeCloseTo(50.0015, 9);
  });

  it("bounds the fixes of a time window", () => {
    expect(trackBounds(track)).toEqual({ south: 50, west: 10, north: 50.002, east: 10.002 });
    expect(trackBounds(track, 0, 10_000)).toEqual({
      south: 50,
      west: 10,
      north: 50,
      east: 10.001,
    });
    expect(trackBounds(track, 30_000, 90_000)).toBeNull();
  });
});

describe("playback clock", () => {
  it("advances by wall time times the speed", () => {
    expect(advance(track, 0, 100, 10, 200_000)).toBe(1_000);
  });

  it("skips a gap to the start of the next segment", () => {
    expect(advance(track, 19_000, 100, 100, 200_000)).toBe(100_000);
  });

  it("stops at the last fix, and restarts from the first at the end", () => {
    expect(advance(track, 105_000, 1000, 1000, 200_000)).toBe(110_000);
    expect(playStart(track, 110_000, -50_000)).toBe(0);
    expect(playStart(track, 15_000, -50_000)).toBe(15_000);
    expect(playStart(track, -40_000, -50_000)).toBe(0);
  });
});

describe("speed colours", () => {
  it("puts speeds in bands by km/h, null as standing still", () => {
    expect(speedBand(null)).toBe(0);
    expect(speedBand(1)).toBe(0); // 3.6 km/h
    expect(speedBand(10)).toBe(2); // 36 km/h
    expect(speedBand(40)).toBe(SPEED_BANDS.length - 1); // 144 km/h
  });

  it("cuts a segment into runs of one colour that join without a break", () => {
    const runs = bandRuns([
      p(0, 50, 10, 10),
      p(1, 50, 10.1, 10),
      p(2, 50, 10.2, 10),
      p(3, 50, 10.3, 30),
      p(4, 50, 10.4, 30),
    ]);
    // 36 km/h, then the mean 72 km/h across the change, then 108 km/h.
    expect(runs.map((r) => r.band)).toEqual([2, 3, 4]);
    expect(runs[0]!.latlngs).toHaveLength(3);
    expect(runs[1]!.latlngs[0]).toEqual(runs[0]!.latlngs.at(-1));
    expect(runs.reduce((n, r) => n + r.latlngs.length - 1, 0)).toBe(4);
  });
});

describe("chart axis", () => {
  it("maps time to x and back", () => {
    const scale = { from: 1000, to: 2000, width: 500 };
    expect(timeToX(scale, 1500)).toBe(250);
    expect(xToTime(scale, 250)).toBe(1500);
    expect(xToTime(scale, -10)).toBe(1000);
    expect(xToTime(scale, 900)).toBe(2000);
  });

  it("rounds an axis maximum up to 1, 2 or 5 times a power of ten", () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(73)).toBe(100);
    expect(niceCeil(130)).toBe(200);
    expect(niceCeil(41)).toBe(50);
  });

  it("spans the data within the range, not the whole range", () => {
    const MIN = 60_000;
    // "Today" since midnight, eight minutes driven this evening.
    const today = { from: 0, to: 20 * 60 * MIN };
    const evening = makeTrack([[p(18 * 60 * MIN, 50, 10), p(18 * 60 * MIN + 8 * MIN, 50, 10.1)]]);
    const span = chartSpan(today, evening);
    // A margin of 2 % of the span, at least 30 s, either side.
    expect(span).toEqual({ from: 18 * 60 * MIN - 30_000, to: 18 * 60 * MIN + 8 * MIN + 30_000 });
    // Never past the range, and the whole range when there is nothing to show.
    expect(chartSpan({ from: 18 * 60 * MIN, to: 18 * 60 * MIN + 8 * MIN }, evening)).toEqual({
      from: 18 * 60 * MIN,
      to: 18 * 60 * MIN + 8 * MIN,
    });
    expect(chartSpan(today, makeTrack([]))).toEqual(today);
    expect(chartSpan(today, null)).toEqual(today);
    // A long day of data gets a proportional margin.
    const day = makeTrack([[p(2 * 60 * MIN, 50, 10), p(12 * 60 * MIN, 50, 10.1)]]);
    expect(chartSpan(today, day)).toEqual({ from: 108 * MIN, to: 732 * MIN });
  });
});

describe("stops pinned for replay", () => {
  // Simplified by shape: a straight road through a 10-minute stop keeps only three vertices.
  const simplified = makeTrack([
    [p(0, 50, 10, 10, 90), p(700_000, 50, 10.005, 0, 0), p(1_000_000, 50, 10.03, 10, 90)],
  ]);
  const stop = { start: 100_000, end: 700_000, lat: 50, lon: 10.005 };

  it("stands still exactly during the stop, and drives before and after it", () => {
    const pinned = pinStops(simplified, [stop]);
    expect(pinned.segments[0]!.map((q) => q[0])).toEqual([0, 100_000, 700_000, 1_000_000]);
    expect(sampleTrack(pinned, 400_000)).toMatchObject({ lat: 50, lon: 10.005, speed: 0 });
    expect(sampleTrack(pinned, 50_000)!.lon).toBeCloseTo(10.0025, 9);
    // Without the pins the replay would still be creeping towards the stop.
    expect(sampleTrack(simplified, 400_000)!.lon).toBeCloseTo(10.00286, 4);
    // Parked, the arrow keeps the heading it arrived with.
    expect(pinned.segments[0]![1]![5]).toBe(90);
  });

  it("leaves segments a stop does not touch alone", () => {
    expect(pinStops(track, [])).toBe(track);
    const pinned = pinStops(track, [{ start: 30_000, end: 90_000, lat: 0, lon: 0 }]);
    expect(pinned.segments).toEqual(track.segments);
  });
});

describe("speed over a simplified stretch", () => {
  it("is distance over time when vertices are far apart in time, the fixes' own speeds when close", () => {
    // 0.01° of longitude at 50° N is about 715 m; in 100 s that is 7.15 m/s, whatever the two
    // fixes at the ends said.
    const long = makeTrack([[p(0, 50, 10, 15), p(100_000, 50, 10.01, 0)]]);
    expect(sampleTrack(long, 50_000)!.speed).toBeCloseTo(7.15, 1);
    expect(bandRuns(long.segments[0]!)[0]!.band).toBe(speedBand(7.15));
    const short = makeTrack([[p(0, 50, 10, 15), p(10_000, 50, 10.001, 5)]]);
    expect(sampleTrack(short, 5_000)!.speed).toBeCloseTo(10);
  });
});
