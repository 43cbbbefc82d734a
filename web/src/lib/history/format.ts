/** Figures of the history view: durations, distances and times of day (speeds: lib/format.ts). */

export function formatDuration(ms: number): string {
  const totalMinutes = Math.round(Math.max(0, ms) / 60_000);
  if (totalMinutes < 1) return `${Math.round(Math.max(0, ms) / 1000)} s`;
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  return `${minutes} min`;
}

export function formatDistance(metres: number): string {
  if (metres < 1000) return `${Math.round(metres)} m`;
  const km = metres / 1000;
  return `${km < 100 ? km.toFixed(1) : Math.round(km)} km`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const secondsFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  month: "short",
  day: "numeric",
});

/** "14:05", with the day in front when the range spans several days. */
export function formatClock(epochMs: number, withDay: boolean, withSeconds = false): string {
  const time = (withSeconds ? secondsFormat : timeFormat).format(epochMs);
  return withDay ? `${dayFormat.format(epochMs)} ${time}` : time;
}

/** True when two instants fall on different local calendar days. */
export function spansDays(from: number, to: number): boolean {
  return new Date(from).toDateString() !== new Date(to).toDateString();
}
