import { EVENT_LABEL } from "../../../protocol/event-label.ts";
import type { FleetEvent } from "../../../protocol/geofence.ts";
import { formatSpeed } from "./format.ts";

/** How the dashboard words an event: the feed's rows, the toasts, their labels. */

export { EVENT_LABEL };

export interface EventWords {
  /** "Entered", "Left", "Speeding". */
  verb: string;
  /** The fence's name, or the peak speed. */
  subject: string;
  /** More about it: the limit and how long, for an overspeed. */
  more: string | null;
  /** The whole thing in a sentence, for a screen reader: "van-7 entered Depot". */
  sentence: string;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/** `fenceName`: the name the event carries, or the fence's current one, or null. */
export function describeEvent(
  event: FleetEvent,
  vehicle: string,
  fenceName: string | null,
): EventWords {
  if (event.type === "overspeed") {
    const peak = num(event.details.peak);
    const limit = num(event.details.limit);
    const seconds = num(event.details.durationS);
    const subject = peak === null ? "over the limit" : formatSpeed(peak);
    const parts = [];
    if (limit !== null) parts.push(`limit ${formatSpeed(limit)}`);
    if (seconds !== null) parts.push(`for ${duration(seconds)}`);
    const more = parts.length ? parts.join(", ") : null;
    return {
      verb: EVENT_LABEL.overspeed,
      subject,
      more,
      sentence: `${vehicle} was speeding: ${subject}${more ? ` (${more})` : ""}`,
    };
  }
  if (event.type === "alarm") {
    const alarm = typeof event.details.alarm === "string" ? event.details.alarm : "alarm";
    const subject = alarm === "sos" ? "SOS" : alarm;
    return {
      verb: EVENT_LABEL.alarm,
      subject,
      more: null,
      sentence: `${vehicle} raised an alarm: ${subject}`,
    };
  }
  if (event.type === "battery_low") {
    const battery = num(event.details.battery);
    const subject = battery === null ? "below the threshold" : `${Math.round(battery)} %`;
    return {
      verb: EVENT_LABEL.battery_low,
      subject,
      more: null,
      sentence: `${vehicle}'s battery is low: ${subject}`,
    };
  }
  const status = describeStatus(event, vehicle);
  if (status) return status;
  const fence = fenceName ?? "a geofence";
  const entered = event.type === "geofence_enter";
  return {
    verb: EVENT_LABEL[event.type],
    subject: fence,
    more: null,
    sentence: `${vehicle} ${entered ? "entered" : "left"} ${fence}`,
  };
}

/** Online / offline and moving / stopped: what the device is doing, with how long it had been. */
function describeStatus(event: FleetEvent, vehicle: string): EventWords | null {
  const verb = EVENT_LABEL[event.type];
  const words = (subject: string, sentence: string) => ({ verb, subject, more: null, sentence });
  switch (event.type) {
    case "offline": {
      const lastFixAt = num(event.details.lastFixAt);
      const silent = lastFixAt === null ? null : duration((event.ts - lastFixAt) / 1000);
      const subject = silent === null ? "no recent fix" : `no fix for ${silent}`;
      return words(subject, `${vehicle} went offline: ${subject}`);
    }
    case "online": {
      const offlineS = num(event.details.offlineS);
      const subject = offlineS === null ? "reporting again" : `after ${duration(offlineS)} offline`;
      return words(subject, `${vehicle} is online again ${subject}`);
    }
    case "stopped":
      // The row already says when: "Stopped" needs nothing after it.
      return words("", `${vehicle} stopped`);
    case "moving": {
      const stoppedS = num(event.details.stoppedS);
      const subject = stoppedS === null ? "again" : `after ${duration(stoppedS)} stopped`;
      return words(subject, `${vehicle} is moving ${subject}`);
    }
    default:
      return null;
  }
}
