import type { EventType } from "./geofence.ts";

/**
 * An event type in a word or two, as the dashboard and browser notifications show it. A file of
 * its own, without zod, so the dashboard's main bundle can take it.
 */
export const EVENT_LABEL: Readonly<Record<EventType, string>> = {
  geofence_enter: "Entered",
  geofence_exit: "Left",
  overspeed: "Speeding",
  alarm: "Alarm",
  battery_low: "Low battery",
  offline: "Offline",
  online: "Online",
  stopped: "Stopped",
  moving: "Moving",
};
