import geographiclib from "geographiclib-geodesic";
import { describe, expect, it } from "vitest";
import {
  FenceGeometry,
  type FenceTrackState,
  type FenceTransition,
  type Shape,
  shapeProblem,
  type TimedPoint,
  type Vertex,
} from "../../protocol/fence-geometry.ts";
import { distanceM, metresPerDegree } from "../../protocol/geo.ts";
import { fenceShapeSchema } from "../../protocol/geofence.ts";

const ORIGIN: Vertex = { lat: 52.52, lon: 13.405 };
const T0 = 1_700_000_000_000;

/** A point `east` and `north` metres from `origin` on the local flat approximation. */
function offset(east: number, north: number, origin: Vertex = ORIGIN): Vertex {
  const { kx, ky } = metresPerDegree(origin.lat);
  return { lat: origin.lat + north / ky, lon: origin.lon + east / kx };
}

/** Karney's exact geodesic: `metres` from `from` along `azimuth` (degrees from north). */
function geodesic(from: Vertex, azimuth: number, metres: number): Vertex {
  const r = geographiclib.Geodesic.WGS84.Direct(from.lat, from.lon, azimuth, metres);
  return { lat: r.lat2!, lon: r.lon2! };
}

const circle = (radius: number, center: Vertex = ORIGIN): Shape => ({
  type: "circle",
  center,
  radius,
});
const polygon = (corners: [number, number][]): Shape => ({
  type: "polygon",
  ring: corners.map(([e, n]) => offset(e, n)),
});

/** A U open to the north: 300 m square with a 100 m wide notch down to 100 m. */
const U: [number, number][] = [
  [0, 0],
  [300, 0],
  [300, 300],
  [200, 300],
  [200, 100],
  [100, 100],
  [100, 300],
  [0, 300],
];

/** Fixes along a straight line from (e0, n0) to (e1, n1) at `speed` m/s, one every `every` s. */
function drive(
  from: [number, number],
  to: [number, number],
  speed: number,
  every: number,
  start = T0,
): TimedPoint[] {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  const duration = length / speed;
  const fixes: TimedPoint[] = [];
  for (let t = 0; t <= duration + 1e-9; t += every) {
    const f = t / duration;
    const p = offset(from[0] + f * (to[0] - from[0]), from[1] + f * (to[1] - from[1]));
    fixes.push({ ...p, ts: start + t * 1000 });
  }
  return fixes;
}

/** Every transition along a run of fixes, from a given state. */
function traceAll(
  fence: FenceGeometry,
  fixes: TimedPoint[],
  band: number,
  state: FenceTrackState = { inside: false, crossing: null },
): FenceTransition[] {
  const out: FenceTransition[] = [];
  for (let i = 1; i < fixes.length; i++) {
    out.push(...fence.trace(fixes[i - 1]!, fixes[i]!, state, band));
  }
  return out;
}

describe("FenceGeometry.signedDistance", () => {
  it("measures a circle from its rim against the exact geodesic", () => {
    const fence = new FenceGeometry(circle(100));
    expect(fence.signedDistance(geodesic(ORIGIN, 90, 150))).toBeCloseTo(50, 0);
    expect(Math.abs(fence.signedDistance(geodesic(ORIGIN, 90, 150)) - 50)).toBeLessThan(0.5);
    expect(Math.abs(fence.signedDistance(geodesic(ORIGIN, 0, 60)) + 40)).toBeLessThan(0.5);
    expect(Math.abs(fence.signedDistance(geodesic(ORIGIN, 225, 100)))).toBeLessThan(0.5);
    expect(fence.signedDistance(ORIGIN)).toBeCloseTo(-100, 6);
  });

  it("measures across the antimeridian the short way round", () => {
    const center = { lat: 10, lon: 179.9995 };
    const fence = new FenceGeometry(circle(100, center));
    const across = geodesic(center, 90, 150); // past 180°: a negative longitude
    expect(across.lon).toBeLessThan(0);
    expect(Math.abs(fence.signedDistance(across) - 50)).toBeLessThan(0.5);
    expect(fence.bbox.west).toBeGreaterThan(fence.bbox.east);
  });

  it.each([
    ["counter-clockwise", false],
    ["clockwise", true],
  ])("tells inside from outside a %s square", (_, reversed) => {
    const square: [number, number][] = [
      [-100, -100],
      [100, -100],
      [100, 100],
      [-100, 100],
    ];
    const fence = new FenceGeometry(polygon(reversed ? square.reverse() : square));
    expect(fence.signedDistance(offset(0, 0))).toBeCloseTo(-100, 1);
    expect(fence.signedDistance(offset(60, 30))).toBeCloseTo(-40, 1);
    expect(fence.signedDistance(offset(150, 0))).toBeCloseTo(50, 1);
    // Past a corner: the distance is to the corner itself.
    expect(fence.signedDistance(offset(130, 140))).toBeCloseTo(50, 1);
    expect(fence.size).toBeCloseTo(100, 1);
  });

  it("knows the notch of a concave polygon is outside", () => {
    const fence = new FenceGeometry(polygon(U));
    expect(fence.signedDistance(offset(150, 200))).toBeCloseTo(50, 1); // in the notch
    expect(fence.signedDistance(offset(150, 120))).toBeCloseTo(20, 1);
    expect(fence.signedDistance(offset(50, 200))).toBeCloseTo(-50, 1); // in an arm
    expect(fence.signedDistance(offset(250, 250))).toBeCloseTo(-50, 1);
    expect(fence.signedDistance(offset(150, 40))).toBeCloseTo(-40, 1); // in the bottom bar
    expect(fence.signedDistance(offset(150, 400))).toBeCloseTo(Math.hypot(50, 100), 1); // past its corners
    expect(fence.size).toBeCloseTo(Math.sqrt(300 * 300 - 100 * 200) / 2, 1);
  });

  it("measures a corridor from its centre line less half the width", () => {
    const line = [offset(0, 0), offset(1000, 0), offset(1000, 1000)];
    const fence = new FenceGeometry({ type: "corridor", line, width: 40 });
    expect(fence.signedDistance(offset(500, 0))).toBeCloseTo(-20, 1);
    expect(fence.signedDistance(offset(500, 50))).toBeCloseTo(30, 1);
    expect(fence.signedDistance(offset(500, -15))).toBeCloseTo(-5, 1);
    expect(fence.signedDistance(offset(-30, -40))).toBeCloseTo(30, 1); // past the end: round cap
    expect(fence.signedDistance(offset(1030, 500))).toBeCloseTo(10, 1); // along the second leg
    expect(fence.signedDistance(offset(900, 900))).toBeCloseTo(80, 1); // inside the bend
    expect(fence.size).toBe(20);
  });

  it("grows the bbox by the radius and the corridor's half width", () => {
    const c = new FenceGeometry(circle(100)).bbox;
    expect(distanceM(c.south, c.west, c.south, c.east)).toBeCloseTo(200, 0);
    expect(distanceM(c.south, c.west, c.north, c.west)).toBeCloseTo(200, 0);
    expect(c.west).toBeLessThan(ORIGIN.lon);
    expect(c.east).toBeGreaterThan(ORIGIN.lon);

    const line = [offset(0, 0), offset(1000, 0)];
    const k = new FenceGeometry({ type: "corridor", line, width: 40 }).bbox;
    expect(distanceM(k.south, k.west, k.south, k.east)).toBeCloseTo(1040, 0);
    expect(distanceM(k.south, k.west, k.north, k.west)).toBeCloseTo(40, 0);

    const p = new FenceGeometry(polygon(U)).bbox;
    expect(p.west).toBeCloseTo(ORIGIN.lon, 9);
    expect(p.south).toBeCloseTo(ORIGIN.lat, 9);
    expect(p.east).toBeCloseTo(offset(300, 300).lon, 9);
    expect(p.north).toBeCloseTo(offset(300, 300).lat, 9);
  });
});

describe("shapeProblem", () => {
  it("names the crossing edges of a bow tie", () => {
    const bowTie = polygon([
      [0, 0],
      [100, 100],
      [100, 0],
      [0, 100],
    ]);
    expect(shapeProblem(bowTie)).toEqual({
      path: ["ring"],
      rule: "must not intersect itself (edges 0 and 2 cross)",
    });
  });

  it("finds a crossing among many edges, and a ring that folds back on itself", () => {
    // A 200-corner circle whose corner 120 is pulled across and out past the other side.
    const corners: [number, number][] = Array.from({ length: 200 }, (_, i) => {
      const angle = (2 * Math.PI * i) / 200;
      const r = i === 120 ? -1500 : 1000;
      return [r * Math.cos(angle), r * Math.sin(angle)];
    });
    expect(shapeProblem(polygon(corners))?.rule).toMatch(/^must not intersect itself \(edges/);
    const folded = shapeProblem(
      polygon([
        [0, 0],
        [100, 0],
        [100, 100],
        [100, 50],
      ]),
    );
    expect(folded).toEqual({
      path: ["ring"],
      rule: "must not intersect itself (edges 1 and 2 overlap)",
    });
  });

  it("points at a repeated vertex", () => {
    const ring = polygon([
      [0, 0],
      [100, 0],
      [100, 0.001],
      [0, 100],
    ]);
    expect(shapeProblem(ring)).toEqual({
      path: ["ring", 2],
      rule: "must not repeat the previous vertex",
    });
    const line = [offset(0, 0), offset(0, 0), offset(100, 0)];
    expect(shapeProblem({ type: "corridor", line, width: 20 })).toEqual({
      path: ["line", 1],
      rule: "must not repeat the previous vertex",
    });
  });

  it("refuses the closing vertex", () => {
    const ring = polygon([
      [0, 0],
      [100, 0],
      [0, 100],
      [0, 0],
    ]);
    expect(shapeProblem(ring)).toEqual({
      path: ["ring", 3],
      rule: "must not repeat the first vertex as the last (the ring closes itself)",
    });
  });

  it("refuses a polygon with no area", () => {
    const sliver = polygon([
      [0, 0],
      [1, 0],
      [0, 0.9],
    ]);
    expect(shapeProblem(sliver)).toEqual({ path: ["ring"], rule: "must enclose an area" });
  });

  it("refuses a fence wider than 500 km, radius and width included", () => {
    const huge = polygon([
      [0, 0],
      [400_000, 0],
      [400_000, 400_000],
    ]);
    expect(shapeProblem(huge)?.path).toEqual([]);
    expect(shapeProblem(huge)?.rule).toMatch(
      /^must span at most 500 km \(this one spans 55\d km\)$/,
    );
    const line = [offset(0, 0), offset(490_000, 0)];
    expect(shapeProblem({ type: "corridor", line, width: 5_000 })).toBeNull();
    expect(shapeProblem({ type: "corridor", line, width: 10_000 })?.path).toEqual([]);
  });

  it("accepts valid shapes", () => {
    expect(shapeProblem(circle(100_000))).toBeNull();
    expect(shapeProblem(polygon(U))).toBeNull();
    expect(
      shapeProblem({
        type: "corridor",
        line: [offset(0, 0), offset(100, 0), offset(0, 0)],
        width: 10,
      }),
    ).toBeNull();
    // A 1000-corner star: every edge's east-west span overlaps most others.
    const star: [number, number][] = Array.from({ length: 1000 }, (_, i) => {
      const angle = (2 * Math.PI * i) / 1000;
      const r = i % 2 === 0 ? 10_000 : 3_000;
      return [r * Math.cos(angle), r * Math.sin(angle)];
    });
    expect(shapeProblem(polygon(star))).toBeNull();
  });

  it("reaches zod issues with paths relative to the shape", () => {
    const result = fenceShapeSchema.safeParse(
      polygon([
        [0, 0],
        [100, 100],
        [100, 0],
        [0, 100],
      ]),
    );
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["ring"]);
  });
});

describe("FenceGeometry.trace", () => {
  it("enters and leaves a 100 m circle once on a 1 Hz drive through it", () => {
    const fence = new FenceGeometry(circle(100));
    // A chord 30 m north of the centre, west to east at 15 m/s.
    const fixes = drive([-300, 30], [300, 30], 15, 1);
    const transitions = traceAll(fence, fixes, 10);
    expect(transitions.map((t) => t.inside)).toEqual([true, false]);
    const half = Math.sqrt(100 ** 2 - 30 ** 2);
    const enter = T0 + ((300 - half) / 15) * 1000;
    const exit = T0 + ((300 + half) / 15) * 1000;
    expect(Math.abs(transitions[0]!.at.ts - enter)).toBeLessThan(1000);
    expect(Math.abs(transitions[1]!.at.ts - exit)).toBeLessThan(1000);
    for (const { at } of transitions) expect(Math.abs(fence.signedDistance(at))).toBeLessThan(0.5);
  });

  it("finds both crossings of a 60 s reporter's one leg through a small circle", () => {
    const fence = new FenceGeometry(circle(25));
    // 10 m/s, a fix a minute: the second leg passes 10 m from the centre.
    const fixes = drive([-900, 10], [900, 10], 10, 60);
    expect(fixes).toHaveLength(4);
    const state: FenceTrackState = { inside: false, crossing: null };
    const transitions = traceAll(fence, fixes, 10, state);
    expect(transitions.map((t) => t.inside)).toEqual([true, false]);
    const half = Math.sqrt(25 ** 2 - 10 ** 2);
    expect(Math.abs(transitions[0]!.at.ts - (T0 + ((900 - half) / 10) * 1000))).toBeLessThan(1000);
    expect(Math.abs(transitions[1]!.at.ts - (T0 + ((900 + half) / 10) * 1000))).toBeLessThan(1000);
    expect(transitions[0]!.at.ts).toBeLessThan(transitions[1]!.at.ts);
    expect(metresApart(transitions[0]!.at, offset(-half, 10))).toBeLessThan(0.5);
    expect(metresApart(transitions[1]!.at, offset(half, 10))).toBeLessThan(0.5);
    expect(state).toEqual({ inside: false, crossing: null });
  });

  it("ignores jitter within the band around the boundary", () => {
    const fence = new FenceGeometry(circle(100));
    const fixes: TimedPoint[] = Array.from({ length: 40 }, (_, i) => ({
      ...geodesic(ORIGIN, 45 + i, 100 + (i % 2 === 0 ? 3 : -3)),
      ts: T0 + i * 1000,
    }));
    expect(traceAll(fence, fixes, 10, { inside: false, crossing: null })).toEqual([]);
    expect(traceAll(fence, fixes, 10, { inside: true, crossing: null })).toEqual([]);
    // Without a band, every swing is a transition.
    expect(traceAll(fence, fixes, 0)).toHaveLength(39);
  });

  it("dates an entry at the boundary crossing, segments before its confirmation", () => {
    const fence = new FenceGeometry(circle(100));
    // Walking straight at the centre from 103 m out; fixes 4 s apart.
    const radii = [103, 99, 97, 95.5, 94, 90];
    const fixes = radii.map((r, i) => ({ ...offset(r, 0), ts: T0 + i * 4000 }));
    const state: FenceTrackState = { inside: false, crossing: null };
    expect(fence.trace(fixes[0]!, fixes[1]!, state, 10)).toEqual([]);
    expect(state.inside).toBe(false);
    expect(state.crossing).not.toBeNull();
    expect(fence.trace(fixes[1]!, fixes[2]!, state, 10)).toEqual([]);
    expect(fence.trace(fixes[2]!, fixes[3]!, state, 10)).toEqual([]);
    const [enter, ...rest] = fence.trace(fixes[3]!, fixes[4]!, state, 10);
    expect(rest).toEqual([]);
    expect(enter!.inside).toBe(true);
    // 3 of the first leg's 4 m: 3 s after the first fix.
    expect(Math.abs(enter!.at.ts - (T0 + 3000))).toBeLessThan(50);
    expect(Math.abs(fence.signedDistance(enter!.at))).toBeLessThan(0.5);
    expect(state).toEqual({ inside: true, crossing: null });
  });

  it("forgets a crossing it crossed back over", () => {
    const fence = new FenceGeometry(circle(100));
    const fixes = [103, 98, 102, 97, 90].map((r, i) => ({ ...offset(r, 0), ts: T0 + i * 1000 }));
    const transitions = traceAll(fence, fixes, 10);
    expect(transitions).toHaveLength(1);
    // The last crossing (between 102 and 97 m, at 100 m) is the one that led in.
    expect(Math.abs(transitions[0]!.at.ts - (T0 + 2400))).toBeLessThan(50);
  });

  it("does nothing for a leg that dips in shallower than half the band", () => {
    const fence = new FenceGeometry(circle(100));
    const state: FenceTrackState = { inside: false, crossing: null };
    const a = { ...offset(-300, 97), ts: T0 };
    const b = { ...offset(300, 97), ts: T0 + 60_000 };
    expect(fence.trace(a, b, state, 10)).toEqual([]);
    expect(state).toEqual({ inside: false, crossing: null });
    // The same leg 5 m further in does go in and out.
    const a2 = { ...offset(-300, 94), ts: T0 };
    const b2 = { ...offset(300, 94), ts: T0 + 60_000 };
    expect(fence.trace(a2, b2, state, 10).map((t) => t.inside)).toEqual([true, false]);
  });

  it("follows a drive along a corridor and off it", () => {
    const line = [offset(0, 0), offset(1000, 0), offset(1000, 1000)];
    const fence = new FenceGeometry({ type: "corridor", line, width: 40 });
    // East along the centre line from 200 m before it, then north off it at x = 500.
    const along = drive([-200, 0], [500, 0], 10, 1);
    const off = drive([500, 0], [500, 300], 10, 1, along.at(-1)!.ts);
    const transitions = traceAll(fence, [...along, ...off.slice(1)], 10);
    expect(transitions.map((t) => t.inside)).toEqual([true, false]);
    expect(Math.abs(transitions[0]!.at.ts - (T0 + 18_000))).toBeLessThan(1000); // x = -20
    expect(Math.abs(transitions[1]!.at.ts - (T0 + 72_000))).toBeLessThan(1000); // y = 20
    for (const { at } of transitions) expect(Math.abs(fence.signedDistance(at))).toBeLessThan(0.5);
  });

  it("enters and leaves both arms of a U on one straight leg, in order", () => {
    const fence = new FenceGeometry(polygon(U));
    const a = { ...offset(-50, 200), ts: T0 };
    const b = { ...offset(350, 200), ts: T0 + 40_000 }; // 10 m/s
    const transitions = fence.trace(a, b, { inside: false, crossing: null }, 10);
    expect(transitions.map((t) => t.inside)).toEqual([true, false, true, false]);
    const expected = [0, 100, 200, 300].map((x) => T0 + (x + 50) * 100);
    transitions.forEach((t, i) => {
      expect(Math.abs(t.at.ts - expected[i]!)).toBeLessThan(1000);
      expect(Math.abs(fence.signedDistance(t.at))).toBeLessThan(0.5);
    });
  });

  it("crosses a 1000-corner polygon where its edges are, whichever stretch the leg is in", () => {
    const radius = 2000;
    const ring: [number, number][] = Array.from({ length: 1000 }, (_, i) => {
      const angle = (2 * Math.PI * i) / 1000;
      return [radius * Math.cos(angle), radius * Math.sin(angle)];
    });
    const fence = new FenceGeometry(polygon(ring));
    for (const [every, band] of [
      [1, 10],
      [60, 10],
      [7, 0],
    ] as const) {
      // 15 m/s on a chord 700 m south of the centre, from 3 km west to 3 km east.
      const fixes = drive([-3000, -700], [3000, -700], 15, every);
      const transitions = traceAll(fence, fixes, band);
      expect(transitions.map((t) => t.inside)).toEqual([true, false]);
      // The corners' circle: the edges lie within 2 m inside it.
      const half = Math.sqrt(radius ** 2 - 700 ** 2);
      expect(Math.abs(transitions[0]!.at.ts - (T0 + ((3000 - half) / 15) * 1000))).toBeLessThan(
        1000,
      );
      expect(Math.abs(transitions[1]!.at.ts - (T0 + ((3000 + half) / 15) * 1000))).toBeLessThan(
        1000,
      );
      for (const { at } of transitions)
        expect(Math.abs(fence.signedDistance(at))).toBeLessThan(0.5);
    }
  });

  it("evaluates a fix that did not move, and a state that disagrees with it", () => {
    const fence = new FenceGeometry(circle(100));
    const p = { ...offset(10, 0), ts: T0 };
    const q = { ...p, ts: T0 + 1000 };
    const state: FenceTrackState = { inside: false, crossing: null };
    expect(fence.trace(p, q, state, 10)).toEqual([{ inside: true, at: p }]);
    expect(fence.trace(p, q, state, 10)).toEqual([]);
    expect(state).toEqual({ inside: true, crossing: null });
  });

  it("skips a leg far from the fence, and crosses the antimeridian the short way", () => {
    const fence = new FenceGeometry(circle(100));
    const state: FenceTrackState = { inside: false, crossing: null };
    const far = fence.trace(
      { ...offset(5000, 5000), ts: T0 },
      { ...offset(6000, 5000), ts: T0 + 1000 },
      state,
      10,
    );
    expect(far).toEqual([]);

    const center = { lat: -16.5, lon: 180 };
    const dateLine = new FenceGeometry(circle(50, center));
    const a = { ...geodesic(center, 270, 200), ts: T0 };
    const b = { ...geodesic(center, 90, 200), ts: T0 + 40_000 };
    const transitions = dateLine.trace(a, b, { inside: false, crossing: null }, 10);
    expect(transitions.map((t) => t.inside)).toEqual([true, false]);
    expect(Math.abs(transitions[0]!.at.ts - (T0 + 15_000))).toBeLessThan(1000);
    expect(Math.abs(transitions[1]!.at.ts - (T0 + 25_000))).toBeLessThan(1000);
    for (const { at } of transitions) {
      expect(Math.abs(at.lon)).toBeLessThanOrEqual(180);
      expect(Math.abs(dateLine.signedDistance(at))).toBeLessThan(0.5);
    }
  });
});

function metresApart(p: Vertex, q: Vertex): number {
  return distanceM(p.lat, p.lon, q.lat, q.lon);
}
