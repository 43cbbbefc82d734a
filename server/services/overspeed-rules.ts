import type { NewEvent } from "../stores/ports.ts";
import type { DeviceRuleState, RuleFix } from "./event-rules.ts";
import type { GeofenceService } from "./geofences.ts";

export interface OverspeedConfig {
  /** m/s everywhere a device has none of its own; 0: no global limit. */
  speedLimit: number;
  /** An episode counts from this duration (ms) between its first and last fix over the limit. */
  overspeedMs: number;
  /** Fixes further apart than this end an overspeed episode (no claim across a gap). */
  maxGapMs: number;
}

/**
 * Overspeed episodes: above the limit where the device is for at least `overspeedMs`, one event
 * per episode, raised when it ends so it carries the peak. The limit is the device's own, else
 * the global one, unless a fence the device is in sets a lower one.
 */
export class OverspeedRules {
  /** Per device, the speed limit where it is, while its fences and its own limit are unchanged. */
  private readonly limits = new Map<string, { limit: number; fence: number | null } | null>();

  constructor(
    private readonly geofences: Pick<GeofenceService, "indexed">,
    private readonly config: OverspeedConfig,
    /** A device's own speed limit (m/s), or null: the directory in memory, no I/O per fix. */
    private readonly deviceLimit: (deviceId: string) => number | null,
  ) {}

  /** The fences the device is in, or its own limit, changed: the limit is looked up again. */
  forget(deviceId: string): void {
    this.limits.delete(deviceId);
  }

  private limitFor(deviceId: string, state: DeviceRuleState) {
    let limit = this.limits.get(deviceId);
    if (limit === undefined) this.limits.set(deviceId, (limit = this.limitAt(deviceId, state)));
    return limit;
  }

  /**
   * The limit where the device is: its own limit, or else the global one, unless one of the
   * fences it is in sets a lower one.
   */
  private limitAt(
    deviceId: string,
    state: DeviceRuleState,
  ): { limit: number; fence: number | null } | null {
    const base = this.deviceLimit(deviceId) ?? this.config.speedLimit;
    let best: { limit: number; fence: number | null } | null =
      base > 0 ? { limit: base, fence: null } : null;
    for (const [id, track] of Object.entries(state.fences)) {
      if (!track.inside) continue;
      const limit = this.geofences.indexed(Number(id))?.fence.speedLimit;
      if (limit && (!best || limit < best.limit)) best = { limit, fence: Number(id) };
    }
    return best;
  }

  /** Take in one fix: an episode begins, goes on, or ends (and is raised if it lasted). */
  step(deviceId: string, state: DeviceRuleState, fix: RuleFix, events: NewEvent[]): void {
    const episode = state.overspeed;
    if (episode && fix.ts - episode.lastOver > this.config.maxGapMs)
      this.endEpisode(deviceId, state, events);
    const at = this.limitFor(deviceId, state);
    const speed = fix.speed;
    if (at && speed !== undefined && speed > at.limit) {
      if (!state.overspeed) {
        state.overspeed = {
          start: { ts: fix.ts, lat: fix.lat, lon: fix.lon },
          lastOver: fix.ts,
          peak: speed,
          limit: at.limit,
          fence: at.fence,
        };
      } else {
        state.overspeed.lastOver = fix.ts;
        state.overspeed.peak = Math.max(state.overspeed.peak, speed);
      }
    } else if (state.overspeed && (speed !== undefined || !at)) {
      // A fix without a speed says nothing either way: the episode goes on until one does.
      this.endEpisode(deviceId, state, events);
    }
  }

  /** One event per episode, once it is over, so it carries the episode's true peak. */
  private endEpisode(deviceId: string, state: DeviceRuleState, events: NewEvent[]): void {
    const episode = state.overspeed!;
    state.overspeed = null;
    const durationMs = episode.lastOver - episode.start.ts;
    if (durationMs < this.config.overspeedMs) return;
    events.push({
      deviceId,
      type: "overspeed",
      ts: episode.start.ts,
      lat: episode.start.lat,
      lon: episode.start.lon,
      geofenceId: episode.fence,
      details: {
        peak: round(episode.peak),
        limit: round(episode.limit),
        durationS: durationMs / 1000,
        endedAt: episode.lastOver,
      },
    });
  }
}

const round = (v: number) => Math.round(v * 100) / 100;
