import { describe, expect, it } from "vitest";
import type { Geofence } from "../../protocol/geofence.ts";
import {
  fromGeoJson,
  GeoJsonError,
  MAX_GEOJSON_PROBLEMS,
  toFeatureCollection,
  type GeoJsonPosition,
} from "../../protocol/geofence-geojson.ts";

const fence = (id: number, name: string, shape: Geofence["shape"]): Geofence => ({
  id,
  name,
  color: "#3366cc",
  shape,
  speedLimit: null,
  createdAt: 1,
  updatedAt: 1,
});

const depot = fence(1, "Depot", {
  type: "circle",
  center: { lat: 52.52, lon: 13.405 },
  radius: 250,
});
// Counter-clockwise already (x = lon, y = lat): south-west, south-east, north-east, north-west.
const yard = fence(2, "Yard", {
  type: "polygon",
  ring: [
    { lat: 52.5, lon: 13.4 },
    { lat: 52.5, lon: 13.41 },
    { lat: 52.51, lon: 13.41 },
    { lat: 52.51, lon: 13.4 },
  ],
});
const route = fence(3, "Route 9", {
  type: "corridor",
  line: [
    { lat: 52.5, lon: 13.3 },
    { lat: 52.52, lon: 13.35 },
    { lat: 52.53, lon: 13.42 },
  ],
  width: 40,
});
const fences = [depot, { ...yard, color: "#00aa00", speedLimit: 8.3 }, route];

/** What goes over the wire: plain JSON. */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** The problems a GeoJsonError lists for this input (fails if it imports). */
function problemsOf(input: unknown): { path: string; rule: string }[] {
  try {
    fromGeoJson(input);
  } catch (err) {
    expect(err).toBeInstanceOf(GeoJsonError);
    return (err as GeoJsonError).problems;
  }
  throw new Error("imported, but should not have");
}

const feature = (
  geometry: unknown,
  properties: Record<string, unknown> | null = { name: "F" },
) => ({
  type: "Feature",
  geometry,
  properties,
});
const collection = (...features: unknown[]) => ({ type: "FeatureCollection", features });

const square: GeoJsonPosition[] = [
  [13.4, 52.5],
  [13.41, 52.5],
  [13.41, 52.51],
  [13.4, 52.51],
  [13.4, 52.5],
];
const good = (name: string) => feature({ type: "Polygon", coordinates: [square] }, { name });

describe("toFeatureCollection", () => {
  it("writes a circle as its centre Point [lon, lat] with the radius in properties", () => {
    const [f] = toFeatureCollection([depot]).features;
    expect(f).toEqual({
      type: "Feature",
      id: 1,
      geometry: { type: "Point", coordinates: [13.405, 52.52] },
      properties: {
        name: "Depot",
        color: "#3366cc",
        speedLimit: null,
        shape: "circle",
        radius: 250,
      },
    });
  });

  it("writes a corridor as a LineString with its width in properties", () => {
    const [f] = toFeatureCollection([route]).features;
    expect(f!.geometry).toEqual({
      type: "LineString",
      coordinates: [
        [13.3, 52.5],
        [13.35, 52.52],
        [13.42, 52.53],
      ],
    });
    expect(f!.properties).toMatchObject({ shape: "corridor", width: 40 });
    expect(f!.properties).not.toHaveProperty("radius");
  });

  it("writes a clockwise polygon counter-clockwise and closed, first corner first", () => {
    if (yard.shape.type !== "polygon") throw new Error("unreachable");
    const clockwise = fence(4, "CW", { type: "polygon", ring: [...yard.shape.ring].reverse() });
    const [f] = toFeatureCollection([clockwise]).features;
    if (f!.geometry.type !== "Polygon") throw new Error("not a polygon");
    expect(f!.geometry.coordinates).toHaveLength(1);
    const ring = f!.geometry.coordinates[0]!;
    expect(ring).toHaveLength(5);
    expect(ring[4]).toEqual(ring[0]);
    expect(ring[0]).toEqual([13.4, 52.51]); // the clockwise ring's first corner
    let twiceArea = 0;
    for (let i = 0; i + 1 < ring.length; i++) {
      twiceArea += ring[i]![0] * ring[i + 1]![1] - ring[i + 1]![0] * ring[i]![1];
    }
    expect(twiceArea).toBeGreaterThan(0); // counter-clockwise
  });

  it("keeps a counter-clockwise polygon's order", () => {
    const [f] = toFeatureCollection([yard]).features;
    expect(f!.geometry.coordinates).toEqual([square]);
  });
});

describe("fromGeoJson", () => {
  it("round-trips all three shapes with their names, colours and speed limits", () => {
    const imported = fromGeoJson(wire(toFeatureCollection(fences))).fences;
    expect(imported).toEqual(
      fences.map(({ name, color, shape, speedLimit }) => ({ name, color, shape, speedLimit })),
    );
  });

  it("reads a single Feature, drops altitudes, and defaults colour and speed limit", () => {
    const input = feature(
      { type: "Point", coordinates: [13.4, 52.5, 34] },
      { name: "Gate", radius: 30 },
    );
    expect(fromGeoJson(input).fences).toEqual([
      {
        name: "Gate",
        color: "#e4572e",
        speedLimit: null,
        shape: { type: "circle", center: { lat: 52.5, lon: 13.4 }, radius: 30 },
      },
    ]);
  });

  it("accepts an empty FeatureCollection (the export of no fences)", () => {
    expect(fromGeoJson(collection()).fences).toEqual([]);
  });

  describe("refuses", () => {
    it("a non-object", () => {
      for (const input of ["fences", 42, null, [good("A")]]) {
        expect(problemsOf(input)).toEqual([
          { path: "", rule: expect.stringMatching(/^must be a GeoJSON object/) },
        ]);
      }
    });

    it("a wrong type, with a hint for a bare geometry", () => {
      expect(problemsOf({ type: "Polygon", coordinates: [square] })).toEqual([
        {
          path: "type",
          rule: expect.stringMatching(
            /^must be "FeatureCollection" or "Feature", got "Polygon": a bare geometry has no name/,
          ),
        },
      ]);
      expect(problemsOf(collection("nope"))).toEqual([
        { path: "features[0]", rule: 'must be a GeoJSON Feature object, got "nope"' },
      ]);
    });

    it("a Point without a radius", () => {
      const input = collection(good("A"), feature({ type: "Point", coordinates: [13.4, 52.5] }));
      expect(problemsOf(input)).toEqual([
        {
          path: "features[1].properties.radius",
          rule: "is required: a Point is the centre of a circle of this radius, in metres",
        },
      ]);
    });

    it("a negative or non-numeric radius", () => {
      const point = { type: "Point", coordinates: [13.4, 52.5] };
      expect(problemsOf(feature(point, { name: "A", radius: -50 }))).toEqual([
        {
          path: "properties.radius",
          rule: "must be a positive number of metres (a Point is the centre of a circle), got -50",
        },
      ]);
      expect(problemsOf(feature(point, { name: "A", radius: "50" }))[0]).toEqual({
        path: "properties.radius",
        rule: 'must be a positive number of metres (a Point is the centre of a circle), got "50"',
      });
    });

    it("a LineString without a width", () => {
      const line = { type: "LineString", coordinates: square.slice(0, 3) };
      expect(problemsOf(collection(feature(line)))).toEqual([
        {
          path: "features[0].properties.width",
          rule: "is required: a LineString is the line of a corridor this wide, in metres",
        },
      ]);
    });

    it("a polygon with a hole rather than dropping it", () => {
      const hole: GeoJsonPosition[] = [
        [13.402, 52.502],
        [13.402, 52.504],
        [13.404, 52.504],
        [13.402, 52.502],
      ];
      const input = collection(feature({ type: "Polygon", coordinates: [square, hole] }));
      expect(problemsOf(input)).toEqual([
        {
          path: "features[0].geometry.coordinates[1]",
          rule: "is a hole: holes are not supported (a fence is one ring; this polygon has 2)",
        },
      ]);
    });

    it("an unclosed ring", () => {
      const input = collection(
        good("A"),
        feature({ type: "Polygon", coordinates: [square.slice(0, 4)] }),
      );
      expect(problemsOf(input)).toEqual([
        {
          path: "features[1].geometry.coordinates[0]",
          rule: "must be closed: the last position must repeat the first (RFC 7946 §3.1.6)",
        },
      ]);
    });

    it("a ring of fewer than 4 positions", () => {
      const ring = [square[0], square[1], square[0]];
      expect(problemsOf(feature({ type: "Polygon", coordinates: [ring] }))).toEqual([
        {
          path: "geometry.coordinates[0]",
          rule: "must have at least 4 positions (3 corners and the first again to close it), got 3",
        },
      ]);
    });

    it("a bow-tie polygon (crossing itself), by the shape's own rule", () => {
      const bowTie: GeoJsonPosition[] = [
        [13.4, 52.5],
        [13.41, 52.51],
        [13.41, 52.5],
        [13.4, 52.51],
        [13.4, 52.5],
      ];
      const input = collection(
        good("A"),
        good("B"),
        feature({ type: "Polygon", coordinates: [bowTie] }),
      );
      expect(problemsOf(input)).toEqual([
        {
          path: "features[2].geometry.coordinates",
          rule: "must not intersect itself (edges 0 and 2 cross)",
        },
      ]);
    });

    it("a geometry type that is not a fence, naming it", () => {
      const multi = { type: "MultiPolygon", coordinates: [[square]] };
      expect(problemsOf(collection(feature(multi)))).toEqual([
        {
          path: "features[0].geometry.type",
          rule: '"MultiPolygon" is not supported: a fence is a Point (with properties.radius), a Polygon or a LineString (with properties.width)',
        },
      ]);
      expect(problemsOf(feature(null))).toEqual([
        { path: "geometry", rule: "must be a Point, Polygon or LineString, got null" },
      ]);
    });

    it("duplicate names, naming both features", () => {
      const input = collection(good("A"), good("B"), good("A"));
      expect(problemsOf(input)).toEqual([
        {
          path: "features[2].properties.name",
          rule: 'must be unique in the file: "A" is also the name of features[0]',
        },
      ]);
    });

    it("a Feature without properties.name", () => {
      const point = { type: "Point", coordinates: [13.4, 52.5] };
      expect(problemsOf(feature(point, { radius: 30 }))).toEqual([
        { path: "properties.name", rule: "is required" },
      ]);
      // Also with no properties at all: both what is missing, in one go.
      expect(problemsOf(collection(feature(point, null)))).toEqual([
        { path: "features[0].properties.radius", rule: expect.stringMatching(/^is required/) },
        { path: "features[0].properties.name", rule: "is required" },
      ]);
    });

    it("a bad colour, speed limit or name, under properties", () => {
      const input = collection(
        feature(
          { type: "Polygon", coordinates: [square] },
          { name: " A", color: "red", speedLimit: -1 },
        ),
      );
      expect(problemsOf(input)).toEqual([
        { path: "features[0].properties.name", rule: "must not start or end with a space" },
        { path: "features[0].properties.color", rule: "must be a colour as #rrggbb" },
        { path: "features[0].properties.speedLimit", rule: "must be > 0 m/s" },
      ]);
    });

    it("coordinates that are not finite numbers, and out of range", () => {
      const point = (coordinates: unknown) =>
        feature({ type: "Point", coordinates }, { name: "A", radius: 30 });
      expect(problemsOf(point([13.4, "52.5"]))).toEqual([
        { path: "geometry.coordinates[1]", rule: 'must be a finite number, got "52.5"' },
      ]);
      expect(problemsOf(point([Number.NaN, 52.5]))).toEqual([
        { path: "geometry.coordinates[0]", rule: "must be a finite number, got number" },
      ]);
      expect(problemsOf(point([13.4]))).toEqual([
        {
          path: "geometry.coordinates",
          rule: "must be a position [lon, lat] or [lon, lat, altitude], got an array",
        },
      ]);
      expect(problemsOf(point([13.4, 95]))).toEqual([
        { path: "geometry.coordinates[1]", rule: "must be ≤ 90" },
      ]);
    });

    it("shape limits, named where they are in the file", () => {
      const line = { type: "LineString", coordinates: [[13.4, 52.5]] };
      expect(problemsOf(feature(line, { name: "A", width: 2 }))).toEqual([
        { path: "geometry.coordinates", rule: "must have at least 2 points" },
        { path: "properties.width", rule: "must be at least 5 m" },
      ]);
      const tooMany = Array.from({ length: 1002 }, (_, i): GeoJsonPosition => [
        13.4 + 0.01 * Math.cos((i / 1001) * 2 * Math.PI),
        52.5 + 0.01 * Math.sin((i / 1001) * 2 * Math.PI),
      ]);
      tooMany[1001] = tooMany[0]!;
      expect(problemsOf(feature({ type: "Polygon", coordinates: [tooMany] }))).toEqual([
        { path: "geometry.coordinates", rule: "must have at most 1000 vertices" },
      ]);
      const long = {
        type: "LineString",
        coordinates: [
          [0, 0],
          [10, 0],
        ],
      };
      expect(problemsOf(feature(long, { name: "A", width: 10 }))).toEqual([
        { path: "geometry", rule: expect.stringMatching(/^must span at most 500 km/) },
      ]);
    });

    it("the whole file when its 3rd feature of 5 is bad, listing only that one", () => {
      const input = collection(
        good("A"),
        good("B"),
        feature({ type: "Point", coordinates: [13.4, 52.5] }, { name: "C", radius: 0 }),
        good("D"),
        good("E"),
      );
      let error: unknown;
      let imported: unknown;
      try {
        imported = fromGeoJson(input);
      } catch (err) {
        error = err;
      }
      expect(imported).toBeUndefined();
      expect(error).toBeInstanceOf(GeoJsonError);
      expect((error as GeoJsonError).problems).toEqual([
        {
          path: "features[2].properties.radius",
          rule: expect.stringMatching(/^must be a positive/),
        },
      ]);
      expect((error as GeoJsonError).message).toBe(
        "GeoJSON not imported: features[2].properties.radius: must be a positive number of metres (a Point is the centre of a circle), got 0",
      );
    });

    it("lists every problem up to the cap, and counts the rest", () => {
      const bad = Array.from({ length: 30 }, (_, i) =>
        feature({ type: "Point", coordinates: [13.4, 52.5] }, { name: `F${i}` }),
      );
      let error: GeoJsonError | undefined;
      try {
        fromGeoJson(collection(good("ok"), ...bad));
      } catch (err) {
        error = err as GeoJsonError;
      }
      expect(error!.problems).toHaveLength(MAX_GEOJSON_PROBLEMS);
      expect(error!.problems[0]!.path).toBe("features[1].properties.radius");
      expect(error!.total).toBe(30);
      expect(error!.message).toMatch(
        /^GeoJSON not imported, 30 problems:\nfeatures\[1\]\.properties/,
      );
      expect(error!.message).toMatch(/\n… and 10 more$/);
    });

    it("more than 10,000 features", () => {
      const many = collection(...Array.from({ length: 10_001 }, () => ({})));
      expect(problemsOf(many)).toEqual([
        { path: "features", rule: "must hold at most 10000 features, got 10001" },
      ]);
    });
  });
});
