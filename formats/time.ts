// XML Schema dateTime as GPX and KML write it: a zone is optional (GPX says UTC), seconds may
// carry any number of decimals.
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** Epoch ms of an ISO-8601 / xsd:dateTime text, or null when it is not one. */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [, date, time, fraction = "", zone = "Z"] = m;
  // Milliseconds are what Locus stores; finer digits are cut, not rounded, so ts never moves ahead.
  const ms = Date.parse(`${date}T${time}${fraction.slice(0, 4)}${zone}`);
  return Number.isFinite(ms) ? ms : null;
}
