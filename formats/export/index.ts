import type { ExportFormat } from "../../protocol/index.ts";
import { csvWriter } from "./csv.ts";
import { geojsonWriter } from "./geojson.ts";
import { gpxWriter } from "./gpx.ts";
import { kmlWriter } from "./kml.ts";
import type { ExportFormatInfo } from "./writer.ts";

export const EXPORT_FORMATS: Record<ExportFormat, ExportFormatInfo> = {
  gpx: { contentType: "application/gpx+xml", extension: "gpx", create: gpxWriter },
  geojson: { contentType: "application/geo+json", extension: "geojson", create: geojsonWriter },
  csv: { contentType: "text/csv; charset=utf-8", extension: "csv", create: csvWriter },
  kml: {
    contentType: "application/vnd.google-earth.kml+xml",
    extension: "kml",
    create: kmlWriter,
  },
};

export type { ExportMeta, ExportWriter } from "./writer.ts";
