import {
  StayDetector,
  type Fix,
  type StayListener,
  type StayState,
  type Thresholds,
} from "../history/stops.ts";
import type { NewEvent } from "../stores/ports.ts";
import type { RuleFix } from "./event-rules.ts";

export interface MotionRulesConfig {
  /** The stop rules history uses (`--stop-minutes`, `--stop-radius-m`, …). */
  stays: Thresholds;
}

/**
 * Moving / stopped, read from one device's fixes in time order, as the rest of the rules are.
 * Decided by the fixes alone (never by when they arrived), so replaying the stored fixes after a
 * saved state, or a device resending them, gives the same events with the same times, which the
 * store's natural key then keeps once. (Online / offline depend on the clock: offline-watch.ts.)
 */
export class MotionRules {
  /** Where the detector's reports go during `step`: one listener for every fix, none made per fix. */
  private readonly current: { deviceId: string; events: NewEvent[] } = { deviceId: "", events: [] };
  // The very detector history runs (server/history/stops.ts), so a stop in the feed is the stop
  // history draws: `stopped` at the stay's first fix, placed at its centre, once the stay has
  // lasted `--stop-minutes`; `moving` at its last fix, when the device leaves it.
  private readonly listener: StayListener = {
    move() {},
    stopBegan: (first, centre) => {
      this.push("stopped", first[0], centre, {});
    },
    stop: (stop, _first, last) => {
      this.push("moving", last[0], last, { stoppedS: Math.round(stop.durationMs / 1000) });
    },
  };

  constructor(private readonly config: MotionRulesConfig) {}

  /** The stay detector's state lives in `stays`, saved with the rest of the device's rule state. */
  step(deviceId: string, stays: StayState, fix: RuleFix, events: NewEvent[]): void {
    this.current.deviceId = deviceId;
    this.current.events = events;
    // Only what the detector reads, so the saved state stays small.
    const row: Fix = [fix.ts, fix.lat, fix.lon, fix.speed ?? null];
    new StayDetector(this.config.stays, this.listener, stays).push(row);
  }

  private push(type: "moving" | "stopped", ts: number, at: Fix, details: NewEvent["details"]) {
    const { deviceId, events } = this.current;
    events.push({ deviceId, type, ts, lat: at[1], lon: at[2], geofenceId: null, details });
  }
}
