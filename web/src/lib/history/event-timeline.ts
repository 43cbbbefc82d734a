import type { FleetEvent } from "../../../../protocol/geofence.ts";

/**
 * A vehicle's events over a history range as the panel lists them: each enter followed by its
 * exit of the same fence becomes one stay ("In Depot 08:02 – 17:45"); everything else, an
 * enter still open at the end of the range or an exit whose enter came before it included,
 * stays one row per event.
 */
export type TimelineEntry =
  | { kind: "stay"; enter: FleetEvent; exit: FleetEvent; from: number; to: number }
  | { kind: "event"; event: FleetEvent; from: number; to: number };

/**
 * Which fence a crossing concerns: its id, or, for the phone's own regions (OwnTracks
 * transitions carry no fence id), its recorded name. Null when neither is known: such an event
 * cannot be paired.
 */
function fenceKey(event: FleetEvent): string | null {
  if (event.geofenceId !== null) return `id:${event.geofenceId}`;
  const name = event.details.name;
  return typeof name === "string" && name !== "" ? `name:${name}` : null;
}

const single = (event: FleetEvent): TimelineEntry => ({
  kind: "event",
  event,
  from: event.ts,
  to: event.ts,
});

/** Oldest first, whatever order the events come in (the REST pages are newest id first). */
export function eventTimeline(events: readonly FleetEvent[]): TimelineEntry[] {
  const sorted = [...events].sort((a, b) => a.ts - b.ts || a.id - b.id);
  const out: TimelineEntry[] = [];
  /** Per fence, the row of its enter still waiting for an exit. */
  const open = new Map<string, number>();
  for (const event of sorted) {
    const key = fenceKey(event);
    if (event.type === "geofence_enter" && key !== null) {
      // A second enter without an exit between (a phone resending a region): the first one
      // stays a row of its own, the newer one waits for the exit.
      open.set(key, out.length);
      out.push(single(event));
    } else if (event.type === "geofence_exit" && key !== null && open.has(key)) {
      const index = open.get(key)!;
      open.delete(key);
      const enter = (out[index] as Extract<TimelineEntry, { kind: "event" }>).event;
      // The stay keeps its enter's place: the list stays in order of when things began.
      out[index] = { kind: "stay", enter, exit: event, from: enter.ts, to: event.ts };
    } else {
      out.push(single(event));
    }
  }
  return out;
}

/** The entry the replay cursor is in: a stay while inside it, an event within a second of it. */
export function isCurrent(entry: TimelineEntry, t: number): boolean {
  return entry.kind === "stay" ? t >= entry.from && t < entry.to : Math.abs(t - entry.from) < 1000;
}

/**
 * At most `max` events spread evenly over the list (in its order), for marks on the map and the
 * chart: a year's thousands of events would cost more to draw than anyone can read.
 */
export function spreadSample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  if (max <= 0) return [];
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]!);
}
