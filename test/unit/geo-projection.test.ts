import { describe, expect, it } from "vitest";
import { projectToWorld, worldToLatLng } from "../../web/src/lib/geo/projection.ts";

// What Leaflet 1.9's L.CRS.EPSG3857.latLngToPoint(latlng, 0) answers in Chromium for the same
// points (Leaflet itself cannot load in Node): the map places tiles with Leaflet's projection
// and vehicles with this one, so the two must agree.
const LEAFLET = [
  { lat: 52.52, lon: 13.405, x: 137.53244444444445, y: 83.95652116687766 },
  { lat: -33.8688, lon: 151.2093, x: 235.52661333333333, y: 153.62361637344668 },
  { lat: 0, lon: 0, x: 128, y: 128 },
  { lat: 51.4769, lon: -0.0005, x: 127.99964444444444, y: 85.16136856096426 },
  // Beyond Web Mercator's edge: clamped to the top of the world, as Leaflet does.
  { lat: 89, lon: -179.5, x: 0.3555555555555543, y: 5.452704954223009e-11 },
];

describe("world projection (geo/projection.ts)", () => {
  it.each(LEAFLET)("puts $lat, $lon where Leaflet does", ({ lat, lon, x, y }) => {
    const out = { x: 0, y: 0 };
    projectToWorld(lat, lon, out);
    expect(out.x).toBeCloseTo(x, 9);
    expect(out.y).toBeCloseTo(y, 9);
  });

  it.each(LEAFLET.slice(0, 4))("maps $lat, $lon back to itself", ({ lat, lon }) => {
    const out = { x: 0, y: 0 };
    projectToWorld(lat, lon, out);
    const back = worldToLatLng(out.x, out.y);
    expect(back.lat).toBeCloseTo(lat, 9);
    expect(back.lng).toBeCloseTo(lon, 9);
  });
});
