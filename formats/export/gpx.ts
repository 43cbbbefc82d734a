import type { PositionRow } from "../../protocol/history.ts";
import { escapeXml, isoTime, num, type ExportMeta, type ExportWriter } from "./writer.ts";

const GPX_NS = "http://www.topografix.com/GPX/1/1";
/** Garmin's track point extension: speed and course, which GPX 1.1 itself dropped. Widely read. */
export const TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2";

/**
 * GPX 1.1: one <trk> for the device, a new <trkseg> after every data gap, each fix a <trkpt>
 * with <ele> and <time> (in the order the schema requires) and speed and course in a
 * TrackPointExtension.
 */
export function gpxWriter(meta: ExportMeta): ExportWriter {
  let previousTs: number | null = null;
  const name = escapeXml(meta.deviceId);
  return {
    head: () =>
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<gpx version="1.1" creator="Locus" xmlns="${GPX_NS}" xmlns:gpxtpx="${TPX_NS}"` +
      ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
      ` xsi:schemaLocation="${GPX_NS} ${GPX_NS}/gpx.xsd">\n` +
      ` <metadata><name>${name}</name></metadata>\n` +
      ` <trk><name>${name}</name>\n`,
    page(rows: readonly PositionRow[]): string {
      let out = "";
      for (const row of rows) {
        const ts = row[0];
        if (previousTs === null) out += "  <trkseg>\n";
        else if (ts - previousTs > meta.gapMs) out += "  </trkseg>\n  <trkseg>\n";
        previousTs = ts;
        out += trackPoint(row);
      }
      return out;
    },
    tail: () => `${previousTs === null ? "" : "  </trkseg>\n"} </trk>\n</gpx>\n`,
  };
}

function trackPoint(row: PositionRow): string {
  const [ts, lat, lon, speed, course, alt] = row;
  let out = `   <trkpt lat="${num(lat)}" lon="${num(lon)}">`;
  if (alt !== null) out += `<ele>${num(alt)}</ele>`;
  out += `<time>${isoTime(ts)}</time>`;
  if (speed !== null || course !== null) {
    out += "<extensions><gpxtpx:TrackPointExtension>";
    if (speed !== null) out += `<gpxtpx:speed>${num(speed)}</gpxtpx:speed>`;
    if (course !== null) out += `<gpxtpx:course>${num(course)}</gpxtpx:course>`;
    out += "</gpxtpx:TrackPointExtension></extensions>";
  }
  return `${out}</trkpt>\n`;
}
