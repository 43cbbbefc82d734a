/**
 * Time ranges for the history view. Presets are computed in the browser's own time zone, so
 * "today" is the viewer's calendar day (23 or 25 hours long on a DST change), not a UTC day.
 */

export type PresetId = "last-hour" | "today" | "yesterday" | "last-7-days";

export interface TimeRange {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
}

export const PRESETS: readonly { id: PresetId; label: string }[] = [
  { id: "last-hour", label: "Last hour" },
  { id: "today", label: "Today" },
  { id: "yesterday", label: "Yesterday" },
  { id: "last-7-days", label: "Last 7 days" },
];

/** Local midnight starting the day `days` after the one containing `now` (negative: before). */
function localMidnight(now: number, days = 0): number {
  const d = new Date(now);
  // Date normalises day overflow and picks the right UTC offset for that local midnight.
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + days).getTime();
}

export function presetRange(id: PresetId, now: number): TimeRange {
  switch (id) {
    case "last-hour":
      return { from: now - 3_600_000, to: now };
    case "today":
      return { from: localMidnight(now), to: now };
    case "yesterday":
      return { from: localMidnight(now, -1), to: localMidnight(now) - 1 };
    case "last-7-days":
      return { from: localMidnight(now, -6), to: now };
  }
}

/**
 * Which preset a range is, if any, so the picker can highlight it. Ranges ending "now" match
 * within `slackMs`, since the clock has moved on since they were made.
 */
export function matchPreset(range: TimeRange, now: number, slackMs = 60_000): PresetId | null {
  for (const { id } of PRESETS) {
    const p = presetRange(id, now);
    const fromSlack = id === "last-hour" ? slackMs : 0;
    const toSlack = id === "yesterday" ? 0 : slackMs;
    if (Math.abs(p.from - range.from) <= fromSlack && Math.abs(p.to - range.to) <= toSlack)
      return id;
  }
  return null;
}

/** `YYYY-MM-DDTHH:mm` in local time, the value format of `<input type="datetime-local">`. */
export function toLocalInput(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

/** Inverse of `toLocalInput`; null for an empty or malformed value. */
export function fromLocalInput(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(y!, mo! - 1, d!, h!, mi!, s || 0);
  return Number.isNaN(date.getTime()) ? null : date.getTime();
}
