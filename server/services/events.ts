import {
  EVENT_TYPES,
  type EventPage,
  type EventType,
  type FleetEvent,
} from "../../protocol/geofence.ts";
import { TS_FLOOR_MS, type Position } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import type { EventStore, LatestFix, NewEvent, PositionStore, RuleState } from "../stores/ports.ts";
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
 * Events: geofence crossings, overspeed episodes, what devices say, stops and silences, derived from stored, plausible fixes in time
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
  private saves: {
    events: NewEvent[];
    state: RuleState;
    resolve: (stored: FleetEvent[]) => void;
    reject: (err: unknown) => void;
  }[] = [];

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
    const entry = this.states.get(deviceId);
    if (entry && !this.queues.has(deviceId)) {
      // The common case, thousands of times a second: the device's state at hand and nothing of
      // it pending, so the rules run now, without a round through the queue.
      try {
        const toSave = this.apply(deviceId, entry, fixes.map(ruleFix));
        if (toSave) this.enqueue(deviceId, () => this.persist(toSave));
      } catch (err) {
        this.failed(deviceId, err);
      }
      return;
    }
    this.enqueue(deviceId, () => this.advance(deviceId, fixes, upTo));
  }

  /**
   * Another process stored fixes of this device (a node of the cluster): what this one remembers
   * of it is stale. Its next fix here starts from the saved state and the stored fixes after it.
   */
  forget(deviceId: string): void {
    this.enqueue(deviceId, async () => this.drop(deviceId));
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

  /**
   * A region the device's own app watches was entered or left (OwnTracks' `transition`): stored as
   * an enter or exit without a Locus fence, named after the app's region, once however often the
   * app resends it.
   */
  async phoneTransition(
    deviceId: string,
    transition: { entered: boolean; ts: number; lat: number; lon: number; region: string },
  ): Promise<void> {
    const { entered, ts, lat, lon, region } = transition;
    if (!Number.isSafeInteger(ts) || ts < TS_FLOOR_MS) {
      throw badRequest("ts", "must be epoch milliseconds after 2000-01-01");
    }
    if (!(Math.abs(lat) <= 90)) throw badRequest("lat", "must be between -90 and 90");
    if (!(Math.abs(lon) <= 180)) throw badRequest("lon", "must be between -180 and 180");
    const name = region.trim().slice(0, 64) || "a region of the phone";
    const event: NewEvent = {
      deviceId,
      type: entered ? "geofence_enter" : "geofence_exit",
      ts,
      lat,
      lon,
      geofenceId: null,
      details: { name, source: "phone" },
    };
    await this.recordDirect([event]);
  }

  /**
   * Events made outside the per-device rules (a phone's own region, the offline sweep): stored
   * unless one with the same key is, and told to the listeners only when stored now.
   */
  async recordDirect(events: NewEvent[]): Promise<void> {
    for (const stored of await this.deps.store.record(events, [])) {
      for (const listener of this.listeners) listener(stored);
    }
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

  /**
   * Saves of many devices in one store transaction: every device's first fix after a start
   * saves, and one transaction each would crowd out the position commits they follow.
   */
  private save(events: NewEvent[], state: RuleState): Promise<FleetEvent[]> {
    return new Promise((resolve, reject) => {
      this.saves.push({ events, state, resolve, reject });
      if (this.saves.length === 1) setImmediate(() => void this.flushSaves());
    });
  }

  private async flushSaves(): Promise<void> {
    const batch = this.saves.splice(0);
    try {
      const stored = await this.deps.store.record(
        batch.flatMap((s) => s.events),
        batch.map((s) => s.state),
      );
      // One save per device at a time (its queue waits), so the device says whose events are whose.
      const byDevice = new Map<string, FleetEvent[]>();
      for (const e of stored) byDevice.set(e.deviceId, [...(byDevice.get(e.deviceId) ?? []), e]);
      for (const save of batch) save.resolve(byDevice.get(save.state.deviceId) ?? []);
    } catch (err) {
      for (const save of batch) save.reject(err);
    }
  }

  private failed(deviceId: string, err: unknown): void {
    // The state in memory may be ahead of what was saved: drop it, so the next fix replays from
    // the saved state and nothing is skipped.
    this.drop(deviceId);
    this.deps.logger.error({ err, deviceId }, "event rules failed; will replay");
  }

  private drop(deviceId: string): void {
    this.states.delete(deviceId);
    this.deps.rules.forget(deviceId);
  }

  private enqueue(deviceId: string, work: () => Promise<void>): void {
    const before = this.queues.get(deviceId) ?? Promise.resolve();
    const next = before.then(work).catch((err: unknown) => this.failed(deviceId, err));
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
    const toSave = this.apply(deviceId, entry, fixes);
    if (toSave) await this.persist(toSave);
  }

  /**
   * The rules over the fixes newer than the state, in time order. Returns what to save (the
   * events and the state as of now) when the state changed in a way that matters or was last
   * saved long ago; null when nothing needs writing.
   */
  private apply(
    deviceId: string,
    entry: { state: DeviceRuleState; savedTs: number },
    fixes: RuleFix[],
  ): { events: NewEvent[]; state: RuleState } | null {
    const { state } = entry;
    if (fixes.length > 1) fixes.sort((a, b) => a.ts - b.ts);
    const events: NewEvent[] = [];
    let changed = false;
    for (const fix of fixes) {
      if (fix.ts <= state.ts) continue;
      const step = this.deps.rules.step(deviceId, state, fix);
      if (step.events.length > 0) events.push(...step.events);
      changed ||= step.changed;
    }
    if (!changed && state.ts - entry.savedTs < SAVE_AT_LEAST_EVERY_MS) return null;
    entry.savedTs = state.ts;
    return { events, state: { deviceId, ts: state.ts, state: JSON.stringify(state) } };
  }

  private async persist(toSave: { events: NewEvent[]; state: RuleState }): Promise<void> {
    const stored = await this.save(toSave.events, toSave.state);
    for (const event of stored) for (const listener of this.listeners) listener(event);
  }

  private async storedAfter(deviceId: string, after: number, upTo: number): Promise<RuleFix[]> {
    const fixes: RuleFix[] = [];
    for await (const page of this.deps.positions.scan(deviceId, { from: after + 1, to: upTo })) {
      for (const [ts, lat, lon, speed, , , , battery, attributes] of page) {
        const fix: RuleFix = { ts, lat, lon };
        if (speed !== null) fix.speed = speed;
        if (battery !== null) fix.battery = battery;
        const alarm = attributes === null ? undefined : (JSON.parse(attributes) as Attrs).alarm;
        if (typeof alarm === "string" && alarm !== "") fix.alarm = alarm;
        fixes.push(fix);
      }
    }
    return fixes;
  }
}

type Attrs = Record<string, unknown>;

/** What the rules read of a fix: where, when, how fast, and what the device itself says. */
function ruleFix(p: Position): RuleFix {
  const fix: RuleFix = { ts: p.ts, lat: p.lat, lon: p.lon };
  if (p.speed !== undefined) fix.speed = p.speed;
  if (p.battery !== undefined) fix.battery = p.battery;
  const alarm = p.attributes?.alarm;
  if (typeof alarm === "string" && alarm !== "") fix.alarm = alarm;
  return fix;
}
