import type { PositionRow } from "../../protocol/history.ts";
import { escapeXml, isoTime, num, type ExportMeta, type ExportWriter } from "./writer.ts";

/**
 * KML 2.2 with Google's gx:Track, which Google Earth and most viewers play back in time: one
 * Placemark holding a gx:MultiTrack, a new gx:Track after every data gap. A gx:Track lists all its
 * <when> before all its <gx:coord>, so each page of rows becomes its own gx:Track (starting again
 * from the last fix of the page before, so the line shows no seam): memory stays one page.
 */
export function kmlWriter(meta: ExportMeta): ExportWriter {
  let carry: PositionRow | null = null;
  const name = escapeXml(meta.deviceId);
  return {
    head: () =>
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">\n` +
      `<Document><name>${name}</name>\n` +
      `<Placemark><name>${name}</name>\n<gx:MultiTrack><gx:interpolate>0</gx:interpolate>\n`,
    page(rows: readonly PositionRow[]): string {
      let out = "";
      let run: PositionRow[] = [];
      const first = rows[0];
      if (carry && first && first[0] - carry[0] <= meta.gapMs) run.push(carry);
      for (const row of rows) {
        const last = run[run.length - 1];
        if (last && row[0] - last[0] > meta.gapMs) {
          out += track(run);
          run = [];
        }
        run.push(row);
      }
      if (run.length > 0) out += track(run);
      carry = rows[rows.length - 1] ?? carry;
      return out;
    },
    tail: () => `</gx:MultiTrack>\n</Placemark>\n</Document>\n</kml>\n`,
  };
}

function track(rows: readonly PositionRow[]): string {
  let whens = "";
  let coords = "";
  for (const [ts, lat, lon, , , alt] of rows) {
    whens += `<when>${isoTime(ts)}</when>\n`;
    coords += `<gx:coord>${num(lon)} ${num(lat)} ${num(alt ?? 0)}</gx:coord>\n`;
  }
  return `<gx:Track>\n${whens}${coords}</gx:Track>\n`;
}
