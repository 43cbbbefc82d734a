import type { FenceTrackState, TimedPoint } from "../../protocol/fence-geometry.ts";
import type { NewEvent } from "../stores/ports.ts";
import type { GeofenceService } from "./geofences.ts";

/** The fix as the rules see it: where, when, and how fast if the device said. */
export interface RuleFix extends TimedPoint {
  speed?: number;
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
}

export interface EventRulesConfig {
  /** m/s everywhere; 0: no global limit. */
  speedLimit: number;
  /** An episode counts from this duration (ms) between its first and last fix over the limit. */
  overspeedMs: number;
  hysteresisM: number;
  /** Fixes further apart than this end an overspeed episode (no claim across a gap). */
  maxGapMs: number;
}

export function emptyState(): DeviceRuleState {
  return { ts: Number.NEGATIVE_INFINITY, last: null, fences: {}, overspeed: null };
}

/** Metres to degrees of latitude (conservative for the box a move's candidates come from). */
const M_PER_DEG_LAT = 110_574;

/**
 * The rules themselves, pure: one device's next fix in, its events out, its state updated.
 * Whether a change of state is worth saving is answered too, so a device that just drives along
 * costs no write.
 */
export class EventRules {
  constructor(
    private readonly geofences: Pick<GeofenceService, "near" | "indexed">,
    private readonly config: EventRulesConfig,
  ) {}

  /** Take in one fix (newer than `state.ts`); returns its events and whether to save the state. */
  step(
    deviceId: string,
    state: DeviceRuleState,
    fix: RuleFix,
  ): { events: NewEvent[]; changed: boolean } {
    const events: NewEvent[] = [];
    const fencesBefore = JSON.stringify(state.fences);
    const from = state.last && fix.ts - state.last.ts <= this.config.maxGapMs ? state.last : fix;
    this.fences(deviceId, state, from === fix ? fix : from, fix, events);
    const episodeBefore = state.overspeed?.start.ts;
    this.overspeed(deviceId, state, fix, events);
    state.ts = fix.ts;
    state.last = fix;
    const changed =
      events.length > 0 ||
      episodeBefore !== state.overspeed?.start.ts ||
      JSON.stringify(state.fences) !== fencesBefore;
    return { events, changed };
  }

  private fences(
    deviceId: string,
    state: DeviceRuleState,
    a: RuleFix,
    b: RuleFix,
    events: NewEvent[],
  ): void {
    const grow = this.config.hysteresisM / 2 / M_PER_DEG_LAT;
    const growLon = grow / Math.max(0.01, Math.cos((b.lat * Math.PI) / 180));
    const near = this.geofences.near({
      west: Math.min(a.lon, b.lon) - growLon,
      east: Math.max(a.lon, b.lon) + growLon,
      south: Math.min(a.lat, b.lat) - grow,
      north: Math.max(a.lat, b.lat) + grow,
    });
    // Fences the device is in must be looked at even when the move ends far from them.
    const ids = new Set(near.map((f) => f.fence.id));
    for (const id of Object.keys(state.fences)) ids.add(Number(id));
    for (const id of [...ids].sort((x, y) => x - y)) {
      const indexed = this.geofences.indexed(id);
      if (!indexed) {
        delete state.fences[id]; // removed meanwhile
        continue;
      }
      const track = state.fences[id] ?? { inside: false, crossing: null };
      const band = Math.min(this.config.hysteresisM, indexed.geometry.size);
      for (const t of indexed.geometry.trace(a, b, track, band)) {
        events.push({
          deviceId,
          type: t.inside ? "geofence_enter" : "geofence_exit",
          ts: Math.round(t.at.ts),
          lat: t.at.lat,
          lon: t.at.lon,
          geofenceId: id,
          details: { name: indexed.fence.name },
        });
      }
      if (track.inside || track.crossing) state.fences[id] = track;
      else delete state.fences[id];
    }
  }

  /** The limit where the device is: the lowest of the global one and those of its fences. */
  private limitAt(state: DeviceRuleState): { limit: number; fence: number | null } | null {
    let best: { limit: number; fence: number | null } | null =
      this.config.speedLimit > 0 ? { limit: this.config.speedLimit, fence: null } : null;
    for (const [id, track] of Object.entries(state.fences)) {
      if (!track.inside) continue;
      const limit = this.geofences.indexed(Number(id))?.fence.speedLimit;
      if (limit && (!best || limit < best.limit)) best = { limit, fence: Number(id) };
    }
    return best;
  }

  private overspeed(deviceId: string, state: DeviceRuleState, fix: RuleFix, events: NewEvent[]) {
    const episode = state.overspeed;
    if (episode && fix.ts - episode.lastOver > this.config.maxGapMs)
      this.endEpisode(deviceId, state, events);
    const at = this.limitAt(state);
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
