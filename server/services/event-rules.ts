import type { FenceGeometry, FenceTrackState, TimedPoint } from "../../protocol/fence-geometry.ts";
import { distanceM } from "../../protocol/geo.ts";
import type { Geofence } from "../../protocol/geofence.ts";
import { emptyStayState, type StayState } from "../history/stops.ts";
import type { NewEvent } from "../stores/ports.ts";
import type { GeofenceService, IndexedFence } from "./geofences.ts";
import { MotionRules, type MotionRulesConfig } from "./motion-rules.ts";
import { OverspeedRules, type OverspeedConfig } from "./overspeed-rules.ts";
import { M_PER_DEG_LAT, QuietDisks } from "./quiet-disks.ts";

/** The fix as the rules see it: where, when, and how fast if the device said. */
export interface RuleFix extends TimedPoint {
  speed?: number;
  /** Percent, as the device reported it. */
  battery?: number;
  /** The device's own alarm (Traccar Client's `alarm`: "sos", "general", …). */
  alarm?: string;
}

/**
 * What the rules remember of one device between fixes. Plain JSON: it is saved with the events,
 * and replaying the stored fixes after its `ts` from it gives the same events again.
 */
export interface DeviceRuleState {
  /** The newest fix taken in (epoch ms). */
  ts: number;
  last: RuleFix | null;
  /** Per fence id, only fences the device is in or has just crossed into or out of. */
  fences: Record<string, FenceTrackState>;
  /** An overspeed episode under way: where it began, its peak so far, the limit it broke. */
  overspeed: {
    start: TimedPoint;
    lastOver: number;
    peak: number;
    limit: number;
    fence: number | null;
  } | null;
  /** Below the low-battery threshold, and not yet back above it with margin (absent: no). */
  batteryLow?: boolean;
  /** The stop detector's own state (absent in states saved before it ran: starts afresh). */
  stays?: StayState;
}

export interface EventRulesConfig extends MotionRulesConfig, OverspeedConfig {
  hysteresisM: number;
  /** Percent below which a battery is low (0: never). */
  lowBatteryPercent: number;
}

/** A battery counts as recharged this many points above the threshold, so one hovering at it warns once. */
const BATTERY_MARGIN = 5;

export function emptyState(): DeviceRuleState {
  return { ts: Number.NEGATIVE_INFINITY, last: null, fences: {}, overspeed: null };
}

/** Whether the fence is among those near a move (a handful: a scan beats building a set). */
function isNear(near: readonly IndexedFence[], id: number): boolean {
  for (const { fence } of near) if (fence.id === id) return true;
  return false;
}

/**
 * The rules themselves, pure: one device's next fix in, its events out, its state updated.
 * Whether a change of state is worth saving is answered too, so a device that just drives along
 * costs no write.
 */
export class EventRules {
  private readonly quiet: QuietDisks;
  private readonly speed: OverspeedRules;
  private readonly motion: MotionRules;

  constructor(
    private readonly geofences: Pick<GeofenceService, "near" | "indexed" | "version">,
    private readonly config: EventRulesConfig,
    /** A device's own speed limit (m/s), or null: the directory in memory, no I/O per fix. */
    deviceLimit: (deviceId: string) => number | null = () => null,
  ) {
    this.quiet = new QuietDisks(geofences, (geometry) => this.bandOf(geometry));
    this.speed = new OverspeedRules(geofences, config, deviceLimit);
    this.motion = new MotionRules(config);
  }

  /** Take in one fix (newer than `state.ts`); returns its events and whether to save the state. */
  step(
    deviceId: string,
    state: DeviceRuleState,
    fix: RuleFix,
  ): { events: NewEvent[]; changed: boolean } {
    const events: NewEvent[] = [];
    let fencesChanged = false;
    const from = state.last && fix.ts - state.last.ts <= this.config.maxGapMs ? state.last : fix;
    const disk = state.last ? this.quiet.holding(deviceId, fix) : undefined;
    if (disk) {
      for (const { fence, geometry } of disk.watched) {
        fencesChanged =
          this.traceOne(deviceId, state, fence, geometry, from, fix, events) || fencesChanged;
      }
    } else {
      fencesChanged = this.fences(deviceId, state, from, fix, events);
      const moved = from === fix ? 0 : distanceM(from.lat, from.lon, fix.lat, fix.lon);
      this.quiet.measure(deviceId, fix, moved);
    }
    // The fences it is in may have changed, and with them its speed limit.
    if (fencesChanged || !disk) this.speed.forget(deviceId);
    const episodeBefore = state.overspeed?.start.ts;
    this.speed.step(deviceId, state, fix, events);
    const batteryBefore = state.batteryLow;
    this.deviceSays(deviceId, state, fix, events);
    this.motion.step(deviceId, (state.stays ??= emptyStayState()), fix, events);
    if (events.length > 1) events.sort((x, y) => x.ts - y.ts);
    state.ts = fix.ts;
    state.last = { ts: fix.ts, lat: fix.lat, lon: fix.lon };
    const changed =
      events.length > 0 ||
      fencesChanged ||
      episodeBefore !== state.overspeed?.start.ts ||
      batteryBefore !== state.batteryLow;
    return { events, changed };
  }

  /** What the device itself reports: an alarm (each fix that carries one), a battery running low. */
  private deviceSays(deviceId: string, state: DeviceRuleState, fix: RuleFix, events: NewEvent[]) {
    const at = { deviceId, ts: fix.ts, lat: fix.lat, lon: fix.lon, geofenceId: null };
    if (fix.alarm) events.push({ ...at, type: "alarm", details: { alarm: fix.alarm } });
    const threshold = this.config.lowBatteryPercent;
    if (fix.battery === undefined || threshold <= 0) return;
    if (!state.batteryLow && fix.battery < threshold) {
      state.batteryLow = true;
      events.push({ ...at, type: "battery_low", details: { battery: fix.battery, threshold } });
    } else if (state.batteryLow && fix.battery >= threshold + BATTERY_MARGIN) {
      delete state.batteryLow;
    }
  }

  /** Hysteresis for a fence: the setting, but never more than the fence's own size. */
  private bandOf(geometry: FenceGeometry): number {
    return Math.min(this.config.hysteresisM, geometry.size);
  }

  /** The device is gone (removed, or its state dropped): nothing of it stays here. */
  forget(deviceId: string): void {
    this.quiet.forget(deviceId);
    this.speed.forget(deviceId);
  }

  /** The device's own limit changed: its next fix looks the limit up again. */
  limitChanged(deviceId: string): void {
    this.speed.forget(deviceId);
  }

  /** Trace the move against every fence near it or holding the device; true when any changed. */
  private fences(
    deviceId: string,
    state: DeviceRuleState,
    a: RuleFix,
    b: RuleFix,
    events: NewEvent[],
  ): boolean {
    const grow = this.config.hysteresisM / 2 / M_PER_DEG_LAT;
    const growLon = grow / Math.max(0.01, Math.cos((b.lat * Math.PI) / 180));
    const near = this.geofences.near({
      west: Math.min(a.lon, b.lon) - growLon,
      east: Math.max(a.lon, b.lon) + growLon,
      south: Math.min(a.lat, b.lat) - grow,
      north: Math.max(a.lat, b.lat) + grow,
    });
    let changed = false;
    for (const { fence, geometry } of near) {
      changed = this.traceOne(deviceId, state, fence, geometry, a, b, events) || changed;
    }
    // Fences the device is in must be looked at even when the move ends far from them.
    for (const key in state.fences) {
      const id = Number(key);
      if (isNear(near, id)) continue;
      const indexed = this.geofences.indexed(id);
      if (!indexed) {
        delete state.fences[id]; // removed meanwhile
        changed = true;
      } else {
        changed =
          this.traceOne(deviceId, state, indexed.fence, indexed.geometry, a, b, events) || changed;
      }
    }
    if (events.length > 1) events.sort((x, y) => x.ts - y.ts);
    return changed;
  }

  private traceOne(
    deviceId: string,
    state: DeviceRuleState,
    fence: Geofence,
    geometry: FenceGeometry,
    a: RuleFix,
    b: RuleFix,
    events: NewEvent[],
  ): boolean {
    const before = state.fences[fence.id];
    const track = { inside: before?.inside ?? false, crossing: before?.crossing ?? null };
    for (const t of geometry.trace(a, b, track, this.bandOf(geometry))) {
      events.push({
        deviceId,
        type: t.inside ? "geofence_enter" : "geofence_exit",
        ts: Math.round(t.at.ts),
        lat: t.at.lat,
        lon: t.at.lon,
        geofenceId: fence.id,
        details: { name: fence.name },
      });
    }
    if (track.inside || track.crossing) state.fences[fence.id] = track;
    else delete state.fences[fence.id];
    return (
      (before?.inside ?? false) !== track.inside ||
      (before?.crossing?.ts ?? null) !== (track.crossing?.ts ?? null)
    );
  }
}
