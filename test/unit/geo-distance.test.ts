import geographiclib from "geographiclib-geodesic";
import { describe, expect, it } from "vitest";
import { bearingDeg, distanceM } from "../../protocol/geo.ts";

// Karney's exact WGS84 geodesic is the reference the one distance function must stay close to.
const exact = (lat1: number, lon1: number, lat2: number, lon2: number) =>
  geographiclib.Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2).s12!;

describe("distanceM (WGS84 legs)", () => {
  it.each([0, 35, 52.52, 70, 79])(
    "a 1 Hz track at latitude %d° measures within 0.1 % of the exact geodesic",
    (lat0) => {
      let lat = lat0;
      let lon = 13.4;
      let fast = 0;
      let reference = 0;
      // Five hours of 15 m/s legs winding in every direction, drifting across 1.5° of latitude.
      for (let i = 0; i < 18_000; i++) {
        const heading = (i / 300) * Math.PI;
        const nextLat = lat + (15 * Math.cos(heading)) / 111_000 + 1e-6 * Math.sign(80 - lat0);
        const nextLon =
          lon + (15 * Math.sin(heading)) / (111_000 * Math.cos((lat * Math.PI) / 180));
        fast += distanceM(lat, lon, nextLat, nextLon);
        reference += exact(lat, lon, nextLat, nextLon);
        lat = nextLat;
        lon = nextLon;
      }
      expect(Math.abs(fast - reference) / reference).toBeLessThan(0.001);
    },
  );

  it("takes the short way across the antimeridian", () => {
    const metres = distanceM(10, 179.9995, 10, -179.9995);
    expect(metres).toBeCloseTo(exact(10, 179.9995, 10, -179.9995), 1);
    expect(metres).toBeLessThan(200);
  });
});

describe("bearingDeg", () => {
  const exactAzimuth = (lat1: number, lon1: number, lat2: number, lon2: number) =>
    (geographiclib.Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2).azi1! + 360) % 360;

  it.each([0, 45, 135, 200, 315])(
    "a 100 m leg heading %d° at 52.5° N points within 0.1° of the exact azimuth",
    (heading) => {
      const rad = (heading * Math.PI) / 180;
      const lat2 = 52.5 + (100 * Math.cos(rad)) / 111_250;
      const lon2 = 13.4 + (100 * Math.sin(rad)) / 67_800;
      const got = bearingDeg(52.5, 13.4, lat2, lon2);
      const want = exactAzimuth(52.5, 13.4, lat2, lon2);
      expect(Math.abs(((got - want + 540) % 360) - 180)).toBeLessThan(0.1);
    },
  );

  it("points east across the antimeridian, not west round the world", () => {
    expect(bearingDeg(10, 179.9995, 10, -179.9995)).toBeCloseTo(90, 3);
  });
});
