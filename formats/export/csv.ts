import type { PositionRow } from "../../protocol/history.ts";
import { isoTime, num, type ExportWriter } from "./writer.ts";

export const CSV_COLUMNS = [
  "time",
  "lat",
  "lon",
  "speed",
  "course",
  "alt",
  "accuracy",
  "battery",
  "attributes",
] as const;

/**
 * CSV (RFC 4180): a header row, one row per fix, CRLF line ends; empty cells for readings the
 * device did not send; `attributes` as a JSON object in a quoted cell.
 */
export function csvWriter(): ExportWriter {
  return {
    head: () => `${CSV_COLUMNS.join(",")}\r\n`,
    page(rows: readonly PositionRow[]): string {
      let out = "";
      for (const [ts, lat, lon, ...readings] of rows) {
        const attributes = readings[5];
        const cells = [isoTime(ts), num(lat), num(lon)];
        for (const value of readings.slice(0, 5) as (number | null)[]) {
          cells.push(value === null ? "" : num(value));
        }
        cells.push(attributes === null ? "" : quote(attributes as string));
        out += `${cells.join(",")}\r\n`;
      }
      return out;
    },
    tail: () => "",
  };
}

function quote(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}
