/** Display formatting shared by the live and the history view. Missing values read as an em dash. */

export const DASH = "—";

/**
 * Every speed on screen, live or in history: whole km/h. One precision everywhere, so a parked
 * vehicle reads "0 km/h" next to a moving one's "16 km/h", not "0.0 km/h" (GPS speed is not good
 * to a tenth anyway).
 */
export function formatSpeed(metresPerSecond: number | null | undefined): string {
  if (metresPerSecond === null || metresPerSecond === undefined) return DASH;
  return `${Math.round(metresPerSecond * 3.6)} km/h`;
}

const countFormat = new Intl.NumberFormat();

/** A count as people read it: "12,345" (in the browser's locale). */
export function formatCount(n: number): string {
  return countFormat.format(n);
}

const CARDINALS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"] as const;

export function formatCourse(degrees: number | undefined): string {
  if (degrees === undefined) return DASH;
  const cardinal = CARDINALS[Math.round(degrees / 45) % 8] ?? "N";
  return `${Math.round(degrees) % 360}° ${cardinal}`;
}

export function formatCoordinate(value: number | undefined): string {
  return value === undefined ? DASH : value.toFixed(5);
}

export function formatMetres(value: number | undefined, prefix = ""): string {
  return value === undefined ? DASH : `${prefix}${Math.round(value)} m`;
}

export function formatPercent(value: number | undefined): string {
  return value === undefined ? DASH : `${Math.round(value)} %`;
}

/** "3 s ago", "12 min ago"… Negative ages (clock skew) read as "0 s ago" rather than the future. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

const timeOnly = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const dateAndTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** Today's fixes need only the time; older ones need the date to be unambiguous. */
export function formatTimestamp(epochMs: number, now = Date.now()): string {
  const sameDay = new Date(epochMs).toDateString() === new Date(now).toDateString();
  return (sameDay ? timeOnly : dateAndTime).format(epochMs);
}
