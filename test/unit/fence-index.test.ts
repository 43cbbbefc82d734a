import { describe, expect, it } from "vitest";
import { FenceGeometry } from "../../protocol/fence-geometry.ts";
import type { Bbox } from "../../protocol/geo.ts";
import { FenceIndex } from "../../server/geofences/fence-index.ts";

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const circleAt = (lat: number, lon: number, radius: number) =>
  new FenceGeometry({ type: "circle", center: { lat, lon }, radius });

/** Whether two boxes that do not cross the antimeridian overlap (touching counts). */
const overlaps = (a: Bbox, b: Bbox) =>
  a.west <= b.east && b.west <= a.east && a.south <= b.north && b.south <= a.north;

describe("FenceIndex", () => {
  it("finds the same fences as a brute-force scan of 10,000 small circles", () => {
    const next = random(42);
    const entries = Array.from({ length: 10_000 }, (_, id) => ({
      fence: { id },
      geometry: circleAt(48 + next() * 2, 8 + next() * 3, 5 + next() * 495),
    }));
    const index = new FenceIndex(entries);
    expect(index.size).toBe(10_000);
    let found = 0;
    for (let q = 0; q < 200; q++) {
      const west = 8 + next() * 3;
      const south = 48 + next() * 2;
      const box = {
        west,
        south,
        east: west + next() * 0.05,
        north: south + next() * 0.05,
      };
      const expected = entries
        .filter(({ geometry }) => overlaps(geometry.bbox, box))
        .map(({ fence }) => fence.id);
      const actual = index.search(box).map(({ fence }) => fence.id);
      expect(actual).toEqual(expected); // in the order given, each once
      found += actual.length;
    }
    // The boxes did find something: the comparison was not between two empty lists.
    expect(found).toBeGreaterThan(200);
  });

  it("answers an empty index with nothing", () => {
    const index = new FenceIndex<{ id: number }>([]);
    expect(index.size).toBe(0);
    expect(index.search({ west: -180, south: -90, east: 180, north: 90 })).toEqual([]);
  });

  it("finds a fence across the antimeridian from either side, once", () => {
    const across = circleAt(-16.5, 179.9995, 500);
    expect(across.bbox.west).toBeGreaterThan(across.bbox.east);
    const index = new FenceIndex([
      { fence: { id: 1 }, geometry: across },
      { fence: { id: 2 }, geometry: circleAt(-16.5, 170, 500) },
    ]);
    const ids = (box: Bbox) => index.search(box).map(({ fence }) => fence.id);
    expect(ids({ west: 179.99, south: -16.6, east: 180, north: -16.4 })).toEqual([1]);
    expect(ids({ west: -180, south: -16.6, east: -179.99, north: -16.4 })).toEqual([1]);
    expect(ids({ west: 179, south: -17, east: -179, north: -16 })).toEqual([1]);
    expect(ids({ west: 169, south: -17, east: -179, north: -16 })).toEqual([1, 2]);
    expect(ids({ west: -179.9, south: -17, east: 179.9, north: -16 })).toEqual([2]);
    expect(ids({ west: 179.99, south: 10, east: 180, north: 11 })).toEqual([]);
  });
});
