import type { z } from "zod";
import { newGeofenceSchema, type FenceShape, type Geofence, type LatLon } from "./geofence.ts";

/**
 * Geofences as GeoJSON (RFC 7946), both ways: the export of `GET /api/geofences.geojson`, the CLI
 * and the dashboard, and the import of `POST /api/geofences/import` and the CLI. Pure functions,
 * no I/O: this folder is shared with the browser. Limiting the size of an upload is the
 * transport's job.
 *
 * GeoJSON positions are `[lon, lat]` (an altitude, if any, is dropped on import); our shapes use
 * `{ lat, lon }` objects. The three shapes map to:
 * - circle: a Point (the centre) with `properties.radius` in metres. GeoJSON has no circle; a
 *   Point with a radius property is the common convention (Traccar-like tools, geojson.io users),
 *   so other tools will show at least the centre;
 * - polygon: a Polygon of one closed ring (holes are not supported, and are refused on import
 *   rather than silently dropped);
 * - corridor: a LineString with `properties.width` in metres (the full width, as in our shape).
 */

// ---- the GeoJSON we write ----------------------------------------------------------------

/** `[lon, lat]`, as GeoJSON orders them. */
export type GeoJsonPosition = [number, number];

export type FenceGeometryJson =
  | { type: "Point"; coordinates: GeoJsonPosition }
  | { type: "Polygon"; coordinates: GeoJsonPosition[][] }
  | { type: "LineString"; coordinates: GeoJsonPosition[] };

export interface FenceFeatureProperties {
  name: string;
  color: string;
  /** m/s, or null: the global limit applies. */
  speedLimit: number | null;
  shape: FenceShape["type"];
  /** Circles: metres from the centre (the Point). */
  radius?: number;
  /** Corridors: the full width in metres around the line. */
  width?: number;
}

export interface FenceFeature {
  type: "Feature";
  /** The fence's id (ignored on import: imported fences get new ids). */
  id: number;
  geometry: FenceGeometryJson;
  properties: FenceFeatureProperties;
}

export interface FenceFeatureCollection {
  type: "FeatureCollection";
  features: FenceFeature[];
}

const position = (v: LatLon): GeoJsonPosition => [v.lon, v.lat];

/**
 * Twice the signed area of a ring in degrees (x = lon, y = lat): positive when counter-clockwise.
 * Degrees are enough to tell the winding of a fence (at most 500 km across).
 */
function signedArea(ring: readonly LatLon[]): number {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % ring.length]!;
    sum += a.lon * b.lat - b.lon * a.lat;
  }
  return sum;
}

function geometryOf(shape: FenceShape): FenceGeometryJson {
  switch (shape.type) {
    case "circle":
      return { type: "Point", coordinates: position(shape.center) };
    case "polygon": {
      // RFC 7946 §3.1.6: exterior rings counter-clockwise. Reversed keeping the first corner first.
      const ring =
        signedArea(shape.ring) < 0
          ? [shape.ring[0]!, ...shape.ring.slice(1).reverse()]
          : shape.ring;
      const coordinates = ring.map(position);
      // … and closed: the first position again at the end.
      coordinates.push(position(ring[0]!));
      return { type: "Polygon", coordinates: [coordinates] };
    }
    case "corridor":
      return { type: "LineString", coordinates: shape.line.map(position) };
  }
}

/** Every fence as a Feature of one FeatureCollection, in the order given. */
export function toFeatureCollection(fences: readonly Geofence[]): FenceFeatureCollection {
  return {
    type: "FeatureCollection",
    features: fences.map((fence) => {
      const properties: FenceFeatureProperties = {
        name: fence.name,
        color: fence.color,
        speedLimit: fence.speedLimit,
        shape: fence.shape.type,
      };
      if (fence.shape.type === "circle") properties.radius = fence.shape.radius;
      if (fence.shape.type === "corridor") properties.width = fence.shape.width;
      return { type: "Feature", id: fence.id, geometry: geometryOf(fence.shape), properties };
    }),
  };
}

// ---- reading -----------------------------------------------------------------------------

export const MAX_GEOJSON_FEATURES = 10_000;
/** Problems listed in one error: enough to fix a file in one go, not a wall of text. */
export const MAX_GEOJSON_PROBLEMS = 20;

/** A fence read from a file, checked by `newGeofenceSchema` (defaults applied): ready to create. */
export type ImportedGeofence = z.output<typeof newGeofenceSchema>;

export interface GeoJsonProblem {
  /** Where, relative to the input: `features[2].geometry.coordinates`; "" for the input itself. */
  path: string;
  rule: string;
}

/** A file that cannot be imported, with (up to MAX_GEOJSON_PROBLEMS of) everything wrong in it. */
export class GeoJsonError extends Error {
  readonly problems: GeoJsonProblem[];
  /** How many problems there were in all (more than `problems.length` when some were left off). */
  readonly total: number;

  constructor(problems: GeoJsonProblem[], total = problems.length) {
    const lines = problems.map((p) => (p.path ? `${p.path}: ${p.rule}` : p.rule));
    if (total > problems.length) lines.push(`… and ${total - problems.length} more`);
    super(
      total === 1
        ? `GeoJSON not imported: ${lines[0]}`
        : `GeoJSON not imported, ${total} problems:\n${lines.join("\n")}`,
    );
    this.name = "GeoJsonError";
    this.problems = problems;
    this.total = total;
  }
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const describe = (v: unknown): string =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? "an array"
      : typeof v === "string"
        ? JSON.stringify(v)
        : typeof v;

class Problems {
  readonly list: GeoJsonProblem[] = [];
  total = 0;
  add(path: string, rule: string): void {
    this.total++;
    if (this.list.length < MAX_GEOJSON_PROBLEMS) this.list.push({ path, rule });
  }
}

const join = (base: string, rest: string): string =>
  !base ? rest : !rest ? base : rest.startsWith("[") ? base + rest : `${base}.${rest}`;

/**
 * Read fences from a GeoJSON FeatureCollection or a single Feature (already parsed from JSON).
 * All or nothing: throws a GeoJsonError listing every problem found (up to MAX_GEOJSON_PROBLEMS)
 * when any feature is bad, each named by its path in the input. Each fence is checked by
 * `newGeofenceSchema`, so every rule of the shapes (limits, vertex counts, self-intersection)
 * applies as it does to one created by hand. Names must differ within the file; whether they are
 * free among the stored fences is the service's to say.
 *
 * Per feature: `properties.name` (required), `color` and `speedLimit` (optional; `null` colour is
 * the default colour, `null` speed limit the global one). Other properties (our own `shape`,
 * geojson.io's `stroke`, `fill`, …) are ignored: the geometry decides the shape.
 */
export function fromGeoJson(input: unknown): { fences: ImportedGeofence[] } {
  const problems = new Problems();
  const fail = (): never => {
    throw new GeoJsonError(problems.list, problems.total);
  };

  if (!isObject(input)) {
    problems.add(
      "",
      `must be a GeoJSON object (a FeatureCollection or a Feature), got ${describe(input)}`,
    );
    return fail();
  }
  let features: { value: unknown; path: string }[];
  if (input.type === "FeatureCollection") {
    if (!Array.isArray(input.features)) {
      problems.add("features", "must be an array of Features");
      return fail();
    }
    if (input.features.length > MAX_GEOJSON_FEATURES) {
      problems.add(
        "features",
        `must hold at most ${MAX_GEOJSON_FEATURES} features, got ${input.features.length}`,
      );
      return fail();
    }
    features = input.features.map((value, i) => ({ value, path: `features[${i}]` }));
  } else if (input.type === "Feature") {
    features = [{ value: input, path: "" }];
  } else {
    const geometryHint =
      typeof input.type === "string" && GEOMETRY_TYPES.has(input.type)
        ? ": a bare geometry has no name; put it in a Feature with properties.name"
        : "";
    problems.add(
      "type",
      `must be "FeatureCollection" or "Feature", got ${describe(input.type)}${geometryHint}`,
    );
    return fail();
  }

  const fences: ImportedGeofence[] = [];
  /** Names seen so far, with the path of the feature that has them. */
  const names = new Map<string, string>();
  for (const { value, path } of features) {
    const fence = readFeature(value, path, problems);
    if (fence && problems.total === 0) fences.push(fence);
    if (
      isObject(value) &&
      isObject(value.properties) &&
      typeof value.properties.name === "string"
    ) {
      const name = value.properties.name;
      const first = names.get(name);
      if (first === undefined) names.set(name, path);
      else
        problems.add(
          join(path, "properties.name"),
          `must be unique in the file: ${JSON.stringify(name)} is also the name of ${first || "the input"}`,
        );
    }
  }
  if (problems.total > 0) return fail();
  return { fences };
}

const GEOMETRY_TYPES = new Set([
  "Point",
  "MultiPoint",
  "LineString",
  "MultiLineString",
  "Polygon",
  "MultiPolygon",
  "GeometryCollection",
]);

/** A number an import can use: not NaN, not ±Infinity. */
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

const withoutShape = newGeofenceSchema.omit({ shape: true });

/** One feature, checked; null (with its problems added) when it is bad. */
function readFeature(value: unknown, path: string, problems: Problems): ImportedGeofence | null {
  if (!isObject(value)) {
    problems.add(path, `must be a GeoJSON Feature object, got ${describe(value)}`);
    return null;
  }
  if (value.type !== "Feature") {
    problems.add(join(path, "type"), `must be "Feature", got ${describe(value.type)}`);
    return null;
  }
  const before = problems.total;
  const properties = isObject(value.properties) ? value.properties : {};
  if (value.properties !== undefined && value.properties !== null && !isObject(value.properties)) {
    problems.add(join(path, "properties"), `must be an object, got ${describe(value.properties)}`);
    return null;
  }
  const shape = readGeometry(value.geometry, properties, path, problems);

  const candidate: Obj = { name: properties.name };
  if (properties.color !== undefined && properties.color !== null)
    candidate.color = properties.color;
  if (properties.speedLimit !== undefined) candidate.speedLimit = properties.speedLimit;
  if (shape) candidate.shape = shape;
  // Without a usable shape, still check the rest, so the file can be fixed in one go.
  const schema = shape ? newGeofenceSchema : withoutShape;
  // reportInput: without it zod 4 leaves `input` off issues, and a missing name could not be told
  // from a mistyped one.
  const parsed = schema.safeParse(candidate, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const rule =
        issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
      problems.add(join(path, issuePath(issue.path, shape)), rule);
    }
  }
  if (!parsed.success || !shape || problems.total > before) return null;
  return parsed.data as ImportedGeofence;
}

/** Read a geometry into a shape (unchecked beyond its structure); null when it cannot be. */
function readGeometry(
  geometry: unknown,
  properties: Obj,
  path: string,
  problems: Problems,
): FenceShape | null {
  const at = (rest: string) => join(path, rest);
  if (!isObject(geometry)) {
    problems.add(
      at("geometry"),
      `must be a Point, Polygon or LineString, got ${describe(geometry)}`,
    );
    return null;
  }
  const coordinates = geometry.coordinates;
  switch (geometry.type) {
    case "Point": {
      const center = readPosition(coordinates, at("geometry.coordinates"), problems);
      const radius = readMetres(properties.radius, at("properties.radius"), "radius", problems);
      return center && radius !== null ? { type: "circle", center, radius } : null;
    }
    case "Polygon": {
      if (!Array.isArray(coordinates) || coordinates.length === 0) {
        problems.add(at("geometry.coordinates"), "must be an array of linear rings");
        return null;
      }
      if (coordinates.length > 1) {
        problems.add(
          at("geometry.coordinates[1]"),
          `is a hole: holes are not supported (a fence is one ring; this polygon has ${coordinates.length})`,
        );
        return null;
      }
      const ringPath = at("geometry.coordinates[0]");
      const ring = readPositions(coordinates[0], ringPath, problems);
      if (!ring) return null;
      if (ring.length < 4) {
        problems.add(
          ringPath,
          `must have at least 4 positions (3 corners and the first again to close it), got ${ring.length}`,
        );
        return null;
      }
      const first = ring[0]!;
      const last = ring[ring.length - 1]!;
      if (first.lat !== last.lat || first.lon !== last.lon) {
        problems.add(
          ringPath,
          "must be closed: the last position must repeat the first (RFC 7946 §3.1.6)",
        );
        return null;
      }
      return { type: "polygon", ring: ring.slice(0, -1) };
    }
    case "LineString": {
      const line = readPositions(coordinates, at("geometry.coordinates"), problems);
      const width = readMetres(properties.width, at("properties.width"), "width", problems);
      return line && width !== null ? { type: "corridor", line, width } : null;
    }
    default:
      problems.add(
        at("geometry.type"),
        `${describe(geometry.type)} is not supported: a fence is a Point (with properties.radius), a Polygon or a LineString (with properties.width)`,
      );
      return null;
  }
}

function readMetres(
  value: unknown,
  path: string,
  what: "radius" | "width",
  problems: Problems,
): number | null {
  if (isFiniteNumber(value) && value > 0) return value;
  const of =
    what === "radius"
      ? "a Point is the centre of a circle"
      : "a LineString is the line of a corridor";
  problems.add(
    path,
    value === undefined
      ? `is required: ${of} ${what === "radius" ? "of this radius" : "this wide"}, in metres`
      : `must be a positive number of metres (${of}), got ${typeof value === "number" ? String(value) : describe(value)}`,
  );
  return null;
}

function readPositions(value: unknown, path: string, problems: Problems): LatLon[] | null {
  if (!Array.isArray(value)) {
    problems.add(path, `must be an array of positions [lon, lat], got ${describe(value)}`);
    return null;
  }
  const out: LatLon[] = [];
  let ok = true;
  for (let i = 0; i < value.length; i++) {
    const p = readPosition(value[i], `${path}[${i}]`, problems);
    if (p) out.push(p);
    else ok = false;
  }
  return ok ? out : null;
}

function readPosition(value: unknown, path: string, problems: Problems): LatLon | null {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3) {
    problems.add(
      path,
      `must be a position [lon, lat] or [lon, lat, altitude], got ${describe(value)}`,
    );
    return null;
  }
  let ok = true;
  for (let i = 0; i < value.length; i++) {
    if (!isFiniteNumber(value[i])) {
      problems.add(`${path}[${i}]`, `must be a finite number, got ${describe(value[i])}`);
      ok = false;
    }
  }
  return ok ? { lon: value[0] as number, lat: value[1] as number } : null;
}

/**
 * Where a schema issue is in the GeoJSON: `shape.ring[3].lat` of a polygon is
 * `geometry.coordinates[0][3][1]`. A rule about a whole ring or line (too many vertices, crossing
 * itself) names `geometry.coordinates`.
 */
function issuePath(path: readonly PropertyKey[], shape: FenceShape | null): string {
  const [head, field, index, coordinate] = path;
  // name, color, speedLimit: properties of the same name.
  if (head !== "shape" || !shape) return ["properties", ...path].map(String).join(".");
  const axis = coordinate === "lon" ? "[0]" : coordinate === "lat" ? "[1]" : "";
  switch (field) {
    case "radius":
      return "properties.radius";
    case "width":
      return "properties.width";
    case "center":
      return `geometry.coordinates${index === "lon" ? "[0]" : index === "lat" ? "[1]" : ""}`;
    case "ring":
      return typeof index === "number"
        ? `geometry.coordinates[0][${index}]${axis}`
        : "geometry.coordinates";
    case "line":
      return typeof index === "number"
        ? `geometry.coordinates[${index}]${axis}`
        : "geometry.coordinates";
    default:
      return "geometry";
  }
}
