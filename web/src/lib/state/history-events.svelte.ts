import { EVENT_LABEL } from "../../../../protocol/event-label.ts";
import type { EventType, FleetEvent } from "../../../../protocol/geofence.ts";
import { describeError, fetchEvents } from "../api.ts";
import { eventTimeline, type TimelineEntry } from "../history/event-timeline.ts";
import type { TimeRange } from "../history/range.ts";

/**
 * Every type but stopped and moving: the history lists its stops already (trips and stops, found
 * by the same detector that raises those events), and the events would only repeat them.
 */
const LISTED_TYPES = (Object.keys(EVENT_LABEL) as EventType[]).filter(
  (type) => type !== "stopped" && type !== "moving",
);
/** The most the server answers in one page (EVENTS_MAX_LIMIT). */
const PAGE = 500;
/**
 * Pages fetched for one range at most: a vehicle's events are far fewer than its fixes, but a
 * year of a chatty alarm could still be tens of thousands, and the list says when it stopped.
 */
const MAX_PAGES = 4;
export const MAX_HISTORY_EVENTS = PAGE * MAX_PAGES;

/**
 * The events of the vehicle and range the history view shows, oldest first, and the same paired
 * into stays (event-timeline.ts). Loaded by the history state along with the track; an older
 * load still running is dropped by its abort signal.
 */
class HistoryEvents {
  events = $state.raw<FleetEvent[]>([]);
  readonly timeline = $derived<TimelineEntry[]>(eventTimeline(this.events));
  /** The range holds more events than were fetched (the newest MAX_HISTORY_EVENTS are shown). */
  truncated = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);

  clear(): void {
    this.events = [];
    this.truncated = false;
    this.loading = false;
    this.error = null;
  }

  /** Page through the range's events, newest first, up to the cap. */
  async load(device: string, range: TimeRange, signal: AbortSignal): Promise<void> {
    this.clear();
    this.loading = true;
    const all: FleetEvent[] = [];
    let before: number | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const query = { device, ...range, before, limit: PAGE, types: LISTED_TYPES };
        const reply = await fetchEvents(query, signal);
        all.push(...reply.events);
        if (reply.next === null) break;
        before = reply.next;
        if (page === MAX_PAGES - 1) this.truncated = !signal.aborted;
      }
      if (signal.aborted) return;
      this.events = all.sort((a, b) => a.ts - b.ts || a.id - b.id);
    } catch (error) {
      if (!signal.aborted) this.error = describeError(error);
    } finally {
      if (!signal.aborted) this.loading = false;
    }
  }
}

export const historyEvents = new HistoryEvents();
