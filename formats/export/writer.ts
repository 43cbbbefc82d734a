import type { ExportFormat } from "../../protocol/index.ts";
import type { PositionRow } from "../../protocol/history.ts";

/** What an export is of: one device, one time range. */
export interface ExportMeta {
  deviceId: string;
  from: number;
  to: number;
  /** Fixes further apart than this start a new track segment (ms). */
  gapMs: number;
}

/**
 * A streaming encoder for one export format: text for the head, for each page of rows in time
 * order, and for the tail. Writers keep at most one page of state, so an export of any size is
 * encoded in constant memory.
 */
export interface ExportWriter {
  head(): string;
  page(rows: readonly PositionRow[]): string;
  tail(): string;
}

export interface ExportFormatInfo {
  contentType: string;
  extension: string;
  create(meta: ExportMeta): ExportWriter;
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Text safe inside an XML element or a quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** ISO-8601 UTC with milliseconds, the form GPX, KML and most tools read. */
export function isoTime(ts: number): string {
  return new Date(ts).toISOString();
}

/**
 * A number as the shortest text that reads back to the same double, never in exponent form
 * (1e-7 is not an xsd:decimal, and a fix 1 cm east of Greenwich has such a longitude).
 */
export function num(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/0+$/, "").replace(/\.$/, "");
}

export type { ExportFormat };
