import { describe, expect, it } from "vitest";
import { fastPosition } from "../../protocol/fast-position.ts";
import { positionSchema, TS_FLOOR_MS } from "../../protocol/position.ts";

// Values around every rule's edges, of every JSON type (and a few that only code can send).
const NUMBERS = [0, -0, 1, -1, 0.5, 89.999, 90, 90.0001, -90, -90.5, 179.9, 180, 180.1, -180];
const POOL: Record<string, unknown[]> = {
  ts: [TS_FLOOR_MS, TS_FLOOR_MS - 1, 1.7e12, 1.7e12 + 0.5, Number.MAX_SAFE_INTEGER, 2 ** 53, -5],
  lat: NUMBERS,
  lon: NUMBERS,
  speed: [0, -0, 3.5, -0.1, 1e9],
  course: [0, 359.99, 360, -1, 180],
  alt: [-430, 0, 8848.86, 1e6],
  accuracy: [0, 5, -1],
  battery: [0, 50, 100, 100.1, -1],
  attributes: [{ a: 1 }, {}],
};
const ODD = [NaN, Infinity, -Infinity, "1", null, true, [], {}, undefined, 1n];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe("fastPosition", () => {
  it("accepts only what positionSchema accepts, and returns the same fix", () => {
    const random = rng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    let fastAccepted = 0;
    for (let n = 0; n < 50_000; n++) {
      const candidate: Record<string, unknown> = {};
      for (const [key, values] of Object.entries(POOL)) {
        const required = key === "ts" || key === "lat" || key === "lon";
        const present = required ? 0.98 : key === "attributes" ? 0.1 : 0.5;
        if (random() >= present) continue;
        candidate[key] = random() < 0.95 ? pick(values) : pick(ODD);
      }
      if (random() < 0.05) candidate[pick(["extra", "Ts", "toString"])] = 1;
      const fast = fastPosition(candidate);
      const zod = positionSchema.safeParse(candidate);
      if (fast === null) continue;
      fastAccepted++;
      expect(zod.success, JSON.stringify(candidate)).toBe(true);
      expect(fast).toEqual(zod.data);
    }
    // The fast path is taken often enough for this to have tested something.
    expect(fastAccepted).toBeGreaterThan(1000);
  });

  it("leaves prototype tricks, non-objects and attributes to zod", () => {
    const base = { ts: 1.7e12, lat: 1, lon: 2 };
    for (const tricky of [
      JSON.parse('{"ts":1700000000000,"lat":1,"lon":2,"__proto__":{"speed":1}}'),
      JSON.parse('{"ts":1700000000000,"lat":1,"lon":2,"constructor":1}'),
      Object.assign(Object.create({ speed: 3 }), base),
      { ...base, attributes: { a: 1 } },
      [base],
      null,
      "fix",
    ]) {
      expect(fastPosition(tricky)).toBeNull();
    }
    expect(fastPosition(base)).toEqual(base);
  });
});
