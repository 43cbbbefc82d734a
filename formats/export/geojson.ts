import type { PositionRow } from "../../protocol/history.ts";
import { isoTime, type ExportWriter } from "./writer.ts";

/**
 * GeoJSON (RFC 7946): a FeatureCollection with one Point feature per fix, [lon, lat(, alt)], and
 * the fix's time (ISO-8601) and readings as properties. Points rather than one LineString so every
 * fix keeps its own time and readings, and so the file streams out one feature at a time; GIS
 * tools draw them as a track when asked to join points by time.
 */
export function geojsonWriter(): ExportWriter {
  let first = true;
  return {
    head: () => `{"type":"FeatureCollection","features":[\n`,
    page(rows: readonly PositionRow[]): string {
      let out = "";
      for (const row of rows) {
        out += (first ? "" : ",\n") + JSON.stringify(feature(row));
        first = false;
      }
      return out;
    },
    tail: () => `\n]}\n`,
  };
}

function feature(row: PositionRow) {
  const [ts, lat, lon, speed, course, alt, accuracy, battery, attributes] = row;
  const properties: Record<string, unknown> = { time: isoTime(ts) };
  if (speed !== null) properties.speed = speed;
  if (course !== null) properties.course = course;
  if (accuracy !== null) properties.accuracy = accuracy;
  if (battery !== null) properties.battery = battery;
  if (attributes !== null) properties.attributes = JSON.parse(attributes) as unknown;
  return {
    type: "Feature",
    geometry: { type: "Point", coordinates: alt === null ? [lon, lat] : [lon, lat, alt] },
    properties,
  };
}
