import CheapRuler from "cheap-ruler";
import { describe, expect, it } from "vitest";
import type { TrackPoint } from "../../protocol/history.ts";
import { clipToBox } from "../../server/history/clip.ts";
import { gapFlags, isGap, splitAt } from "../../server/history/gaps.ts";
import { metresPerPixel, segmentCrossesBox } from "../../server/history/geo.ts";
import {
  buildChunkLevels,
  LEVEL_COUNT,
  LEVEL_TOLERANCES_M,
  levelFor,
} from "../../server/history/levels.ts";
import { simplifyLine } from "../../server/history/simplify.ts";
import { maxDeviation, maxTimeDeviation } from "../support/track-check.ts";

const T0 = Date.UTC(2026, 0, 5);
const rule = { maxGapMs: 300_000, maxJumpM: 5000 };

/** Fixes every second along a path given in metres east/north of (lat0, lon0). */
function track(lat0: number, lon0: number, path: (i: number) => [number, number], n: number) {
  const ruler = new CheapRuler(lat0, "meters");
  return Array.from({ length: n }, (_, i): TrackPoint => {
    const [x, y] = path(i);
    return [T0 + i * 1000, lat0 + y / ruler.ky, lon0 + x / ruler.kx, 10, null, null];
  });
}

const asFixes = (points: TrackPoint[]) => points.map(([ts, lat, lon]) => ({ ts, lat, lon }));

describe("zoom to tolerance", () => {
  it("is Web Mercator's metres per 256-px tile pixel, shrinking with latitude", () => {
    expect(metresPerPixel(0, 0)).toBeCloseTo(156_543.03, 1);
    expect(metresPerPixel(10, 0)).toBeCloseTo(152.87, 2);
    expect(metresPerPixel(10, 60)).toBeCloseTo(152.87 / 2, 2);
  });

  it("picks the coarsest level that leaves half the tolerance for the final pass", () => {
    expect(levelFor(0)).toBe(-1);
    expect(levelFor(9.9)).toBe(-1);
    expect(levelFor(10)).toBe(0);
    expect(levelFor(159)).toBe(1);
    expect(levelFor(160)).toBe(2);
    expect(levelFor(1e9)).toBe(LEVEL_COUNT - 1);
  });
});

describe("gaps", () => {
  it("breaks on a pause longer than the rule or a jump further than it", () => {
    const a: TrackPoint = [T0, 52, 13, null, null, null];
    expect(isGap(rule, a, [T0 + 300_000, 52, 13, null, null, null])).toBe(false);
    expect(isGap(rule, a, [T0 + 300_001, 52, 13, null, null, null])).toBe(true);
    expect(isGap(rule, a, [T0 + 1000, 52.044, 13, null, null, null])).toBe(false); // 4.9 km
    expect(isGap(rule, a, [T0 + 1000, 52.046, 13, null, null, null])).toBe(true); // 5.1 km
  });

  it("flags the first fix unless the previous one joins it, and splits there", () => {
    const pts = track(52, 13, (i) => [i * 10, 0], 6);
    pts[3]![0] += 600_000;
    pts[4]![0] += 600_000;
    pts[5]![0] += 600_000;
    expect([...gapFlags(rule, pts)]).toEqual([1, 0, 0, 1, 0, 0]);
    expect([...gapFlags(rule, pts, [T0 - 1000, 52, 13, null, null, null])]).toEqual([
      0, 0, 0, 1, 0, 0,
    ]);
    expect(splitAt(pts, gapFlags(rule, pts)).map((s) => s.length)).toEqual([3, 3]);
  });
});

describe("simplifyLine (Douglas–Peucker, time-synchronised, in local metres)", () => {
  it("keeps time: a stop on a straight road keeps both ends, a replay stays within tolerance", () => {
    // 5 min east at 10 m/s, 5 min standing still, 5 min east again: one straight line, which a
    // shape-only simplification would reduce to its two ends and replay as one slow drive.
    const x = (i: number) => (i < 300 ? i * 10 : i < 600 ? 3000 : 3000 + (i - 600) * 10);
    const drive = track(52, 13, (i) => [x(i), 0], 900);
    const kept = simplifyLine(drive, 5);
    const keptTimes = kept.map((p) => (p[0] - T0) / 1000);
    expect(keptTimes).toEqual(expect.arrayContaining([0, 300, 600, 899]));
    expect(kept.length).toBeLessThanOrEqual(6);
    expect(maxTimeDeviation(asFixes(drive), kept)).toBeLessThanOrEqual(5 + 1e-6);
  });

  it("keeps the ends and leaves every dropped fix within the tolerance", () => {
    const wiggly = track(52, 13, (i) => [i * 12, 40 * Math.sin(i / 15) + 3 * Math.sin(i)], 3000);
    for (const tolerance of [1, 5, 20, 100]) {
      const kept = simplifyLine(wiggly, tolerance);
      expect(kept[0]).toBe(wiggly[0]);
      expect(kept.at(-1)).toBe(wiggly.at(-1));
      expect(kept.length).toBeLessThan(wiggly.length);
      expect(maxDeviation(asFixes(wiggly), [kept])).toBeLessThanOrEqual(tolerance + 1e-6);
    }
  });

  it("measures in metres, not degrees, at high latitude", () => {
    // A 6 m east–west zigzag at 70° N is 0.00016° of longitude, as many degrees as 17 m north–
    // south: simplified in degrees it would look three times bigger than it is.
    const zigzag = track(70, 20, (i) => [(i % 2) * 6, i * 20], 100);
    expect(simplifyLine(zigzag, 7)).toHaveLength(2);
    expect(simplifyLine(zigzag, 5).length).toBeGreaterThan(90);
  });

  it("simplifies laps of a circuit, 100,000 fixes, without overflowing the stack", () => {
    const laps = track(52, 13, (i) => [300 * Math.cos(i / 200), 300 * Math.sin(i / 200)], 100_000);
    const kept = simplifyLine(laps, 2);
    expect(kept.length).toBeLessThan(10_000);
    expect(maxDeviation(asFixes(laps), [kept])).toBeLessThanOrEqual(2 + 1e-6);
  });
});

describe("buildChunkLevels", () => {
  const drive = track(52, 13, (i) => [i * 8 + 30 * Math.sin(i / 7), 200 * Math.sin(i / 300)], 3600);
  // A 10-minute pause in the middle, then a 12 km jump: three pieces.
  for (let i = 1200; i < 3600; i++) drive[i]![0] += 600_000;
  for (let i = 2400; i < 3600; i++) drive[i]![1] += 0.11;
  const levels = buildChunkLevels(rule, drive, null);

  it("makes each level within its tolerance of every raw fix and coarser than the last", () => {
    expect(levels).toHaveLength(LEVEL_COUNT);
    levels.forEach(({ points, breakBefore }, k) => {
      const segments = splitAt(points, breakBefore);
      expect(segments).toHaveLength(3);
      expect(maxDeviation(asFixes(drive), segments)).toBeLessThanOrEqual(
        LEVEL_TOLERANCES_M[k]! + 1e-6,
      );
      if (k > 0) expect(points.length).toBeLessThanOrEqual(levels[k - 1]!.points.length);
    });
    expect(levels[0]!.points.length).toBeLessThan(drive.length / 3);
  });

  it("keeps both sides of every gap in every level", () => {
    for (const { points, breakBefore } of levels) {
      const starts = points.filter((_, i) => breakBefore[i]).map((p) => p[0]);
      expect(starts).toEqual([drive[0]![0], drive[1200]![0], drive[2400]![0]]);
      for (const i of [1199, 2399, 3599]) expect(points).toContain(drive[i]);
    }
  });

  it("joins the previous hour when its last fix is close", () => {
    const before: TrackPoint = [drive[0]![0] - 1000, drive[0]![1], drive[0]![2], 0, null, null];
    expect(buildChunkLevels(rule, drive, before)[3]!.breakBefore[0]).toBe(0);
  });
});

describe("clipToBox", () => {
  const box = { west: 13.0, south: 52.0, east: 13.01, north: 52.01 };
  const at = (i: number, lat: number, lon: number): TrackPoint => [
    T0 + i,
    lat,
    lon,
    null,
    null,
    null,
  ];

  it("keeps fixes inside plus the neighbours through which the line enters and leaves", () => {
    const pts = [
      at(0, 52.005, 12.98),
      at(1, 52.005, 12.99),
      at(2, 52.005, 13.005),
      at(3, 52.005, 13.02),
      at(4, 52.005, 13.03),
    ];
    const clipped = clipToBox(box, pts, new Uint8Array(5));
    expect(clipped.points).toEqual(pts.slice(1, 4));
    expect([...clipped.breakBefore]).toEqual([1, 0, 0]);
  });

  it("keeps a straight piece that crosses the view with no fix inside, and breaks around it", () => {
    const pts = [at(0, 52.005, 12.9), at(1, 52.005, 13.1), at(2, 52.2, 13.1), at(3, 52.3, 13.1)];
    const clipped = clipToBox(box, pts, new Uint8Array(4));
    expect(clipped.points).toEqual(pts.slice(0, 2));
    expect(segmentCrossesBox(box, 52.02, 12.9, 52.02, 13.1)).toBe(false);
  });

  it("does not join across a gap or across dropped fixes", () => {
    const pts = [
      at(0, 52.005, 13.001),
      at(1, 52.005, 13.002),
      at(2, 52.5, 14),
      at(3, 52.6, 14),
      at(4, 52.005, 13.003),
      at(5, 52.005, 13.004),
    ];
    const gaps = Uint8Array.from([1, 0, 0, 0, 0, 1]);
    const clipped = clipToBox(box, pts, gaps);
    expect(clipped.points).toEqual([pts[0], pts[1], pts[2], pts[3], pts[4], pts[5]]);
    expect([...clipped.breakBefore]).toEqual([1, 0, 0, 1, 0, 1]);
  });
});
