import {
  EVENT_TYPES,
  type EventPage,
  type EventType,
  type FleetEvent,
} from "../../protocol/geofence.ts";
import type { Position } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import type { EventStore, LatestFix, NewEvent, PositionStore } from "../stores/ports.ts";
import type { AccessService, User } from "./access.ts";
import type { DeviceService } from "./devices.ts";
import { badRequest } from "./errors.ts";
import { emptyState, EventRules, type DeviceRuleState, type RuleFix } from "./event-rules.ts";

/** Save a state that did not change at least this often, so a replay after a crash stays short. */
const SAVE_AT_LEAST_EVERY_MS = 10 * 60_000;
export const EVENTS_MAX_LIMIT = 500;

export interface EventQuery {
  deviceId?: string;
  types?: EventType[];
  geofenceId?: number;
  from?: number;
  to?: number;
  before?: number;
  limit: number;
}

/**
 * Events: geofence crossings and overspeed episodes, derived from stored, plausible fixes in time
 * order per device (the rules are in event-rules.ts). Each device's fixes are taken in one at a
 * time, after they are committed; the events and the device's rule state are saved together, and
 * events have a natural key (device, type, time, fence), so replaying fixes after a crash or on
 * another node stores nothing twice. A device's state is saved only when it changed in a way that
 * matters (an event, a fence entered or left, an episode begun), or every ten minutes: replaying
 * the fixes after a saved state gives the same events, so nothing is lost by saving seldom.
 */
export class EventService {
  private readonly states = new Map<string, { state: DeviceRuleState; savedTs: number }>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(event: FleetEvent) => void>();

  constructor(
    private readonly deps: {
      store: EventStore;
      positions: PositionStore;
      devices: DeviceService;
      access: AccessService;
      rules: EventRules;
      logger: Logger;
    },
  ) {}

  /** Told about every event stored by this process, once. */
  onEvent(listener: (event: FleetEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Newly committed plausible fixes of a device (this process stored them). */
  take(deviceId: string, fixes: readonly Position[]): void {
    if (fixes.length === 0) return;
    const upTo = fixes.reduce((max, p) => Math.max(max, p.ts), Number.NEGATIVE_INFINITY);
    this.enqueue(deviceId, () => this.advance(deviceId, fixes, upTo));
  }

  /**
   * Another process stored fixes of this device (a node of the cluster): what this one remembers
   * of it is stale. Its next fix here starts from the saved state and the stored fixes after it.
   */
  forget(deviceId: string): void {
    this.enqueue(deviceId, async () => void this.states.delete(deviceId));
  }

  /**
   * At start: devices with fixes newer than their saved state (a crash between a commit and the
   * events it made) get them replayed from the store.
   */
  async catchUp(latest: readonly LatestFix[]): Promise<void> {
    const saved = new Map((await this.deps.store.ruleStates()).map((s) => [s.deviceId, s.ts]));
    for (const { deviceId, latest: fix } of latest) {
      const ts = saved.get(deviceId);
      if (fix && ts !== undefined && fix.ts > ts) {
        this.enqueue(deviceId, () => this.advance(deviceId, [], fix.ts));
      }
    }
    await this.idle();
  }

  /** Resolves when every fix taken so far has been through the rules. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  /** Events of the devices the user may see, newest first. */
  async list(user: User, query: EventQuery): Promise<EventPage> {
    const { deviceId, limit } = query;
    let deviceIds: string[] | null;
    if (deviceId !== undefined) deviceIds = [await this.deps.access.visibleDevice(user, deviceId)];
    else if (user.grant.all) deviceIds = null;
    else {
      deviceIds = [...this.deps.devices.all()]
        .map((d) => d.deviceId)
        .filter((id) => this.deps.access.canSee(user, id));
    }
    if (query.types?.some((t) => !EVENT_TYPES.includes(t))) {
      throw badRequest("type", `must be one of ${EVENT_TYPES.join(", ")}`);
    }
    const events = await this.deps.store.list({ ...query, deviceIds, limit: limit + 1 });
    const more = events.length > limit;
    if (more) events.length = limit;
    return { events, next: more ? events.at(-1)!.id : null };
  }

  private enqueue(deviceId: string, work: () => Promise<void>): void {
    const before = this.queues.get(deviceId) ?? Promise.resolve();
    const next = before.then(work).catch((err: unknown) => {
      // The state in memory may be ahead of what was saved: drop it, so the next fix replays
      // from the saved state and nothing is skipped.
      this.states.delete(deviceId);
      this.deps.logger.error({ err, deviceId }, "event rules failed; will replay");
    });
    this.queues.set(deviceId, next);
    void next.then(() => {
      if (this.queues.get(deviceId) === next) this.queues.delete(deviceId);
    });
  }

  /** Run the device's fixes newer than its state, up to `upTo`, through the rules. */
  private async advance(deviceId: string, fresh: readonly Position[], upTo: number) {
    let entry = this.states.get(deviceId);
    let fixes: RuleFix[];
    if (entry) {
      fixes = fresh.filter((p) => p.ts > entry!.state.ts).map(ruleFix);
    } else {
      // Not in memory (a start, a device that moved here): the saved state, then every stored
      // fix after it, which includes the fresh ones.
      const saved = await this.deps.store.ruleState(deviceId);
      const state: DeviceRuleState = saved ? JSON.parse(saved.state) : emptyState();
      entry = { state, savedTs: saved?.ts ?? Number.NEGATIVE_INFINITY };
      fixes = saved ? await this.storedAfter(deviceId, saved.ts, upTo) : fresh.map(ruleFix);
      this.states.set(deviceId, entry);
    }
    fixes.sort((a, b) => a.ts - b.ts);
    const { state } = entry;
    const events: NewEvent[] = [];
    let changed = false;
    for (const fix of fixes) {
      if (fix.ts <= state.ts) continue;
      const step = this.deps.rules.step(deviceId, state, fix);
      events.push(...step.events);
      changed ||= step.changed;
    }
    if (!changed && state.ts - entry.savedTs < SAVE_AT_LEAST_EVERY_MS) return;
    const stored = await this.deps.store.record(events, [
      { deviceId, ts: state.ts, state: JSON.stringify(state) },
    ]);
    entry.savedTs = state.ts;
    for (const event of stored) for (const listener of this.listeners) listener(event);
  }

  private async storedAfter(deviceId: string, after: number, upTo: number): Promise<RuleFix[]> {
    const fixes: RuleFix[] = [];
    for await (const page of this.deps.positions.scan(deviceId, { from: after + 1, to: upTo })) {
      for (const [ts, lat, lon, speed] of page) {
        fixes.push(speed === null ? { ts, lat, lon } : { ts, lat, lon, speed });
      }
    }
    return fixes;
  }
}

function ruleFix(p: Position): RuleFix {
  return p.speed === undefined
    ? { ts: p.ts, lat: p.lat, lon: p.lon }
    : { ts: p.ts, lat: p.lat, lon: p.lon, speed: p.speed };
}
