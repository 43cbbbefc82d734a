import { describe, expect, it } from "vitest";
import type { EventType, FleetEvent } from "../../protocol/geofence.ts";
import {
  eventTimeline,
  isCurrent,
  spreadSample,
  type TimelineEntry,
} from "../../web/src/lib/history/event-timeline.ts";
import { spacedMarks } from "../../web/src/lib/history/chart.ts";

// The history panel's list of a vehicle's events: enter/exit pairs read as stays.

const MIN = 60_000;
let nextId = 1;
function event(
  type: EventType,
  minute: number,
  fence: number | null = null,
  details: FleetEvent["details"] = {},
): FleetEvent {
  return {
    id: nextId++,
    deviceId: "van",
    type,
    ts: minute * MIN,
    lat: 52,
    lon: 13,
    geofenceId: fence,
    details,
  };
}

/** "stay 1 3-7" or "event overspeed 5": the shape of the timeline, for compact expectations. */
function shape(entries: TimelineEntry[]): string[] {
  return entries.map((e) =>
    e.kind === "stay"
      ? `stay ${e.enter.geofenceId ?? String(e.enter.details.name)} ${e.from / MIN}-${e.to / MIN}`
      : `event ${e.event.type} ${e.from / MIN}`,
  );
}

describe("eventTimeline", () => {
  it("pairs each enter with the next exit of the same fence, in order of when they began", () => {
    const events = [
      event("geofence_enter", 3, 1),
      event("overspeed", 5, null, { peak: 20 }),
      event("geofence_exit", 7, 1),
      event("geofence_enter", 9, 1),
      event("geofence_exit", 12, 1),
    ];
    expect(shape(eventTimeline(events))).toEqual([
      "stay 1 3-7",
      "event overspeed 5",
      "stay 1 9-12",
    ]);
  });

  it("sorts what the REST pages give newest first", () => {
    const events = [event("geofence_enter", 1, 4), event("geofence_exit", 2, 4)].reverse();
    expect(shape(eventTimeline(events))).toEqual(["stay 4 1-2"]);
  });

  it("keeps nested and overlapping fences apart", () => {
    const events = [
      event("geofence_enter", 1, 1), // the yard
      event("geofence_enter", 2, 2), // the depot inside it
      event("geofence_exit", 4, 2),
      event("geofence_enter", 5, 3), // a fence overlapping the yard's edge
      event("geofence_exit", 6, 1),
      event("geofence_exit", 8, 3),
    ];
    expect(shape(eventTimeline(events))).toEqual(["stay 1 1-6", "stay 2 2-4", "stay 3 5-8"]);
  });

  it("leaves an exit whose enter is before the range, and an enter still open, as events", () => {
    const events = [
      event("geofence_exit", 1, 1),
      event("geofence_enter", 3, 1),
      event("geofence_exit", 5, 2), // another fence: not the exit of the enter above
    ];
    expect(shape(eventTimeline(events))).toEqual([
      "event geofence_exit 1",
      "event geofence_enter 3",
      "event geofence_exit 5",
    ]);
  });

  it("pairs the phone's own regions by name, as they carry no fence id", () => {
    const events = [
      event("geofence_enter", 1, null, { name: "Home" }),
      event("geofence_enter", 2, null, { name: "Work" }),
      event("geofence_exit", 3, null, { name: "Home" }),
      event("geofence_exit", 4, null), // no id, no name: nothing to pair with
    ];
    expect(shape(eventTimeline(events))).toEqual([
      "stay Home 1-3",
      "event geofence_enter 2",
      "event geofence_exit 4",
    ]);
  });

  it("pairs the exit with the latest of two enters without an exit between", () => {
    const events = [
      event("geofence_enter", 1, 7),
      event("geofence_enter", 2, 7),
      event("geofence_exit", 3, 7),
    ];
    expect(shape(eventTimeline(events))).toEqual(["event geofence_enter 1", "stay 7 2-3"]);
  });

  it("orders events at the same instant by id, so an enter comes before its exit", () => {
    const enter = event("geofence_enter", 4, 1);
    const exit = event("geofence_exit", 4, 1);
    expect(shape(eventTimeline([exit, enter]))).toEqual(["stay 1 4-4"]);
  });
});

describe("isCurrent", () => {
  it("is the stay the cursor is in, or the event within a second of it", () => {
    const [stay, single] = eventTimeline([
      event("geofence_enter", 1, 1),
      event("geofence_exit", 3, 1),
      event("alarm", 5, null, { alarm: "sos" }),
    ]);
    expect(isCurrent(stay!, 2 * MIN)).toBe(true);
    expect(isCurrent(stay!, 3 * MIN)).toBe(false);
    expect(isCurrent(single!, 5 * MIN + 500)).toBe(true);
    expect(isCurrent(single!, 5 * MIN + 1500)).toBe(false);
  });
});

describe("spreadSample", () => {
  it("keeps everything under the cap, and spreads the cap over the whole list above it", () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    expect(spreadSample(items.slice(0, 5), 10)).toEqual([0, 1, 2, 3, 4]);
    const sample = spreadSample(items, 10);
    expect(sample).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(spreadSample(items, 0)).toEqual([]);
  });
});

describe("spacedMarks", () => {
  it("places marks on the chart's scale, the first of any closer than the gap, none outside", () => {
    const scale = { from: 0, to: 1000, width: 100 }; // 10 ms a pixel
    const items = [-50, 0, 30, 79, 80, 500, 505, 1000, 1200].map((ts) => ({ ts }));
    expect(spacedMarks(scale, items, 8).map((m) => [m.item.ts, m.x])).toEqual([
      [0, 0],
      [80, 8],
      [500, 50],
      [1000, 100],
    ]);
  });

  it("bounds the marks by the width, however many events there are", () => {
    const scale = { from: 0, to: 3_600_000, width: 800 };
    const items = Array.from({ length: 3600 }, (_, i) => ({ ts: i * 1000 }));
    const marks = spacedMarks(scale, items, 8);
    expect(marks.length).toBeLessThanOrEqual(800 / 8 + 1);
    expect(marks.length).toBeGreaterThan(800 / 8 - 2);
  });
});
