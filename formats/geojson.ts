import { JSONParser } from "@streamparser/json";
import { ImportError, type ReadPoint } from "./read-point.ts";
import { parseDateTime } from "./time.ts";

type Json = unknown;
type Obj = Record<string, Json>;

const isObject = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Read the fixes of a GeoJSON file as it streams in, one feature at a time (only the feature being
 * read is held in memory, so a file of a million Point features streams in constant memory; one
 * LineString of a million points is held whole while it is read, within the upload cap).
 *
 * Accepted, as a FeatureCollection or a single Feature:
 * - Point features with a time in properties `time` (ISO-8601 or epoch ms), `timestamp` or `ts`,
 *   and optionally `speed`, `course`, `accuracy`, `battery`, `attributes` (Locus's own export);
 * - LineString and MultiLineString features with one time per coordinate in
 *   `properties.coordinateProperties.times` or `properties.coordTimes` (what GPX converters such
 *   as togeojson write), arrays of arrays for a MultiLineString.
 * Coordinates are [lon, lat] or [lon, lat, alt]. A feature without times stops the import.
 */
export async function* readGeoJson(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ReadPoint[]> {
  const parser = new JSONParser({
    paths: ["$.type", "$.features.*", "$.geometry", "$.properties"],
    keepStack: false,
  });
  let batch: ReadPoint[] = [];
  let rootType: Json = undefined;
  let features = 0;
  let root: { geometry?: Json; properties?: Json } = {};
  // Where a syntax error is: the parser knows byte offsets; people want a line.
  let bytesBefore = 0;
  let linesBefore = 0;
  let chunk: Uint8Array = new Uint8Array(0);
  let lastTokenOffset = 0;
  parser.onToken = ({ offset }) => {
    lastTokenOffset = offset;
  };

  parser.onValue = ({ value, key, stack }) => {
    if (stack.length === 1 && key === "type") rootType = value;
    else if (stack.length === 1 && key === "geometry") root.geometry = value;
    else if (stack.length === 1 && key === "properties") root.properties = value;
    else {
      for (const point of featurePoints(value, `features[${features}]`)) batch.push(point);
      features++;
    }
  };

  const write = (data: Uint8Array | string) => {
    try {
      parser.write(data);
    } catch (err) {
      if (err instanceof ImportError) throw err;
      throw new ImportError(`not valid JSON: ${describeSyntaxError(err as Error)}`);
    }
  };

  function describeSyntaxError(err: Error): string {
    const reason = err.message.replace(/ at chunk position.*$/, "").replace(/ in state .*$/, "");
    const absolute = /absolute position "(\d+)"/.exec(err.message);
    const offset = (absolute ? Number(absolute[1]) : lastTokenOffset) - bytesBefore;
    if (offset < 0 || offset > chunk.length) return `${reason} (after ${features} features)`;
    let line = linesBefore + 1;
    for (let i = chunk.indexOf(0x0a); i >= 0 && i < offset; i = chunk.indexOf(0x0a, i + 1)) line++;
    return `line ${line}: ${reason}`;
  }

  const encoder = new TextEncoder();
  for await (const data of source) {
    chunk = typeof data === "string" ? encoder.encode(data) : data;
    try {
      write(chunk);
    } catch (err) {
      // The features read before the error in this chunk are good: hand them over first.
      if (batch.length > 0) yield batch;
      throw err;
    }
    bytesBefore += chunk.length;
    linesBefore += countNewlines(chunk);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  try {
    // The parser ends by itself after the top-level value; a truncated file leaves it open.
    if (!parser.isEnded) parser.end();
  } catch (err) {
    throw new ImportError(`not valid JSON: ${(err as Error).message} (the file ends too early)`);
  }

  if (rootType === "Feature") {
    for (const point of featurePoints({ type: "Feature", ...root }, "the feature"))
      batch.push(point);
  } else if (rootType !== "FeatureCollection") {
    throw new ImportError(
      `GeoJSON import expects a FeatureCollection or a Feature, got ${rootType === undefined ? "no type" : `type ${JSON.stringify(rootType)}`}`,
    );
  }
  if (batch.length > 0) yield batch;
  root = {};
  if (features === 0 && rootType === "FeatureCollection") {
    throw new ImportError("the FeatureCollection has no features");
  }
}

function countNewlines(data: Uint8Array): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

function featurePoints(feature: Json, at: string): ReadPoint[] {
  if (!isObject(feature) || feature.type !== "Feature") {
    throw new ImportError(`${at}: is not a Feature object`);
  }
  const geometry = feature.geometry;
  const properties = isObject(feature.properties) ? feature.properties : {};
  if (!isObject(geometry)) throw new ImportError(`${at}: has no geometry`);
  const coordinates = geometry.coordinates;
  switch (geometry.type) {
    case "Point": {
      const time = properties.time ?? properties.timestamp ?? properties.ts;
      if (time === undefined) {
        throw new ImportError(
          `${at}: has no time (properties.time); Locus stores only timed fixes`,
        );
      }
      return [point(coordinates, time, at, readings(properties))];
    }
    case "LineString":
      return line(coordinates, lineTimes(properties, at), at);
    case "MultiLineString": {
      const times = lineTimes(properties, at);
      if (!Array.isArray(coordinates)) throw new ImportError(`${at}: coordinates must be an array`);
      return coordinates.flatMap((part, i) =>
        line(part, Array.isArray(times[i]) ? times[i] : [], `${at}.coordinates[${i}]`),
      );
    }
    default:
      throw new ImportError(
        `${at}: geometry type ${JSON.stringify(geometry.type)} is not a track (Point, LineString or MultiLineString)`,
      );
  }
}

function lineTimes(properties: Obj, at: string): Json[] {
  const nested = isObject(properties.coordinateProperties)
    ? properties.coordinateProperties.times
    : undefined;
  const times = nested ?? properties.coordTimes;
  if (!Array.isArray(times)) {
    throw new ImportError(
      `${at}: has no times (properties.coordinateProperties.times or properties.coordTimes); Locus stores only timed fixes`,
    );
  }
  return times;
}

function line(coordinates: Json, times: Json[], at: string): ReadPoint[] {
  if (!Array.isArray(coordinates)) throw new ImportError(`${at}: coordinates must be an array`);
  if (times.length !== coordinates.length) {
    throw new ImportError(`${at}: has ${coordinates.length} coordinates but ${times.length} times`);
  }
  return coordinates.map((c, i) => point(c, times[i], `${at}[${i}]`, {}));
}

function point(coordinates: Json, time: Json, at: string, extra: Obj): ReadPoint {
  if (!Array.isArray(coordinates) || coordinates.length < 2 || coordinates.length > 3) {
    return { at, fields: {}, error: "coordinates must be [lon, lat] or [lon, lat, alt]" };
  }
  const [lon, lat, alt] = coordinates;
  const fields: Obj = { lat, lon, ...extra };
  if (alt !== undefined) fields.alt = alt;
  const ts =
    typeof time === "number" ? time : typeof time === "string" ? parseDateTime(time) : null;
  if (ts === null)
    return {
      at,
      fields,
      error: `time ${JSON.stringify(time)} is not an ISO-8601 date-time or epoch ms`,
    };
  return { at, fields: { ...fields, ts } };
}

/** Readings Locus's own export writes as properties. */
function readings(properties: Obj): Obj {
  const out: Obj = {};
  for (const key of ["speed", "course", "accuracy", "battery", "attributes"]) {
    if (properties[key] !== undefined && properties[key] !== null) out[key] = properties[key];
  }
  return out;
}
