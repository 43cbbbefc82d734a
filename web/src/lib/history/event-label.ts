import type { FleetEvent } from "../../../../protocol/geofence.ts";
import { fenceNameOf, vehicleName } from "../event-show.ts";
import { describeEvent, type EventWords } from "../event-text.ts";
import { formatClock, spansDays } from "./format.ts";

/** The feed's words for an event of the vehicle whose history is shown. */
export function historyEventWords(event: FleetEvent): EventWords {
  return describeEvent(event, vehicleName(event.deviceId), fenceNameOf(event));
}

/** "14:05:12 · Entered Depot", with the day when the range spans several: a mark's tooltip. */
export function historyEventLabel(event: FleetEvent, from: number, to: number): string {
  const words = historyEventWords(event);
  const more = words.more ? ` (${words.more})` : "";
  return `${formatClock(event.ts, spansDays(from, to), true)} · ${words.verb} ${words.subject}${more}`;
}
