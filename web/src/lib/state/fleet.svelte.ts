import type {
  DeviceStatus,
  LiveBatch,
  LiveSnapshot,
  LiveUpdate,
  Position,
} from "../../../../protocol/index.ts";
import { projectToWorld } from "../geo/projection.ts";

/**
 * One tracked vehicle. Deliberately a plain mutable object: 5,000 of them updated ten times a
 * second must not pass through $state proxies. Components learn about changes from
 * `Fleet.version` and read these records directly.
 */
export interface Vehicle {
  readonly id: string;
  /** The display name an admin gave it, or null. */
  name: string | null;
  /** What to call it: the name, or the id when it has none. */
  label: string;
  /** Lower-cased id and name, precomputed for search. */
  key: string;
  status: DeviceStatus;
  /** Server time of the last report, epoch ms. */
  lastSeen: number;
  /** Newest fix shown; never replaced by an older one. Null: it has never reported (not drawn). */
  position: Position | null;
  /** Fixes before `position` that arrived in the latest batch, flat [ts, lat, lon, ...]. */
  recent: number[];
  /** Position in `Fleet.list`. */
  index: number;
  /** Snapshot generation that last contained this vehicle. */
  generation: number;
  // Glide from the displayed point to the newest fix, in world pixels at zoom 0 and degrees.
  fromX: number;
  fromY: number;
  toX: number;
  toY: number;
  fromCourse: number;
  toCourse: number;
  hasCourse: boolean;
  /** performance.now() time span of the glide; finished once now ≥ animEnd. */
  animStart: number;
  animEnd: number;
  /** Displayed point and heading as of the last `sampleVehicle`. */
  x: number;
  y: number;
  course: number;
}

export type StatusCounts = Record<DeviceStatus, number>;

/** A registered device that has sent no fix yet: listed, but nowhere on the map. */
export function neverReported(v: Pick<Vehicle, "position">): boolean {
  return v.position === null;
}

/** Glide duration bounds: follow the device's own reporting interval within these. */
const MIN_GLIDE_MS = 200;
const MAX_GLIDE_MS = 2000;
/** After a longer silence, gliding across the gap would invent a path: jump instead. */
const SNAP_GAP_MS = 10_000;

/** Move `v.x/y/course` to where the glide puts it at `now`; true while still gliding. */
export function sampleVehicle(v: Vehicle, now: number): boolean {
  if (now >= v.animEnd) {
    v.x = v.toX;
    v.y = v.toY;
    v.course = v.toCourse;
    return false;
  }
  const t = Math.max(0, (now - v.animStart) / (v.animEnd - v.animStart));
  v.x = v.fromX + (v.toX - v.fromX) * t;
  v.y = v.fromY + (v.toY - v.fromY) * t;
  // Turn the short way round: 350° → 10° is a 20° turn, not 340°.
  let turn = v.toCourse - v.fromCourse;
  if (turn > 180) turn -= 360;
  else if (turn < -180) turn += 360;
  v.course = v.fromCourse + turn * t;
  return true;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const world = { x: 0, y: 0 };

type ChangeKind = "snapshot" | "batch";
/** `removed`: ids of vehicles dropped by this change (deleted, or no longer visible). */
type ChangeListener = (kind: ChangeKind, removed: readonly string[]) => void;

/** Give a vehicle its display name; false when it already had it. */
function rename(v: Vehicle, name: string | null): boolean {
  if (v.name === name && v.label === (name ?? v.id)) return false;
  v.name = name;
  v.label = name ?? v.id;
  // One string for the search box: a query matches the id or the name.
  v.key = name ? `${v.id}\n${name}`.toLowerCase() : v.id.toLowerCase();
  return true;
}

export class Fleet {
  // Plain containers on purpose (see Vehicle): reactivity comes from `version`.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly byId = new Map<string, Vehicle>();
  /** Dense array for the per-frame loop: cheaper to walk than a Map iterator. */
  readonly list: Vehicle[] = [];
  private sorted: Vehicle[] = [];
  private sortedStale = false;
  private generation = 0;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- callbacks, not state
  private readonly listeners = new Set<ChangeListener>();

  /** Bumped once per applied message; read it to re-render from the plain records. */
  version = $state(0);
  total = $state(0);
  counts = $state.raw<StatusCounts>({ moving: 0, stopped: 0, offline: 0 });
  /** True once a snapshot arrived, so "no vehicles" can be told from "not loaded yet". */
  loaded = $state(false);
  /** Latest performance.now() at which any glide ends; the map animates until then. */
  animatingUntil = 0;
  /** Server clock minus local clock, so "ago" is right on a machine with a wrong clock. */
  skewMs = 0;

  get(id: string): Vehicle | undefined {
    return this.byId.get(id);
  }

  /**
   * Vehicles in natural order of what they are called (sim-2 before sim-10), ties by id;
   * re-sorted only when membership or a name changes.
   */
  sortedVehicles(): readonly Vehicle[] {
    if (this.sortedStale) {
      this.sorted = this.list
        .slice()
        .sort((a, b) => collator.compare(a.label, b.label) || collator.compare(a.id, b.id));
      this.sortedStale = false;
    }
    return this.sorted;
  }

  serverNow(localNow = Date.now()): number {
    return localNow + this.skewMs;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A snapshot is the whole truth: replace the fleet (a resync after a reconnect). */
  replace(snapshot: LiveSnapshot): void {
    this.skewMs = snapshot.serverTime - Date.now();
    const generation = ++this.generation;
    const now = performance.now();
    for (const device of snapshot.devices) this.upsert(device, now).generation = generation;
    // Vehicles the new snapshot lacks were removed, or are no longer this user's to see.
    const removed = this.drop(
      this.list.filter((v) => v.generation !== generation).map((v) => v.id),
    );
    this.loaded = true;
    this.commit("snapshot", removed);
  }

  /** Forget every vehicle on sign-out: whoever signs in next may be granted other devices. */
  reset(): void {
    this.list.length = 0;
    this.byId.clear();
    this.sorted = [];
    this.sortedStale = false;
    this.loaded = false;
    this.animatingUntil = 0;
    this.commit("snapshot", []);
  }

  /** A batch holds only what changed since the previous tick. */
  apply(batch: LiveBatch): void {
    this.skewMs = batch.serverTime - Date.now();
    const now = performance.now();
    for (const device of batch.devices) this.upsert(device, now).generation = this.generation;
    this.commit("batch", this.drop(batch.removed ?? []));
  }

  /** Forget these vehicles; returns the ids that were here. */
  private drop(ids: readonly string[]): string[] {
    const dropped = ids.filter((id) => this.byId.delete(id));
    if (dropped.length === 0) return dropped;
    // Keep `list` dense and each vehicle's `index` its place in it (the map's arrays use it).
    let kept = 0;
    for (const v of this.list) {
      if (this.byId.get(v.id) !== v) continue;
      v.index = kept;
      this.list[kept++] = v;
    }
    this.list.length = kept;
    this.sortedStale = true;
    return dropped;
  }

  private upsert(device: LiveUpdate, now: number): Vehicle {
    let v = this.byId.get(device.id);
    if (!v) {
      v = {
        id: device.id,
        name: null,
        label: device.id,
        key: device.id.toLowerCase(),
        status: device.status,
        lastSeen: device.lastSeen,
        position: null,
        recent: [],
        index: this.list.length,
        generation: this.generation,
        fromX: 0,
        fromY: 0,
        toX: 0,
        toY: 0,
        fromCourse: 0,
        toCourse: 0,
        hasCourse: false,
        animStart: 0,
        animEnd: 0,
        x: 0,
        y: 0,
        course: 0,
      };
      this.byId.set(v.id, v);
      this.list.push(v);
      this.sortedStale = true;
    }
    // Every update carries the whole device: no name means the admin cleared it.
    if (rename(v, device.name ?? null)) this.sortedStale = true;
    v.status = device.status;
    v.lastSeen = Math.max(v.lastSeen, device.lastSeen);
    v.recent = device.trail ?? [];
    if (device.position) this.move(v, device.position, now);
    return v;
  }

  private move(v: Vehicle, p: Position, now: number): void {
    const shown = v.position;
    // Never step back in time: a late or replayed fix must not drag the vehicle backwards.
    if (shown && p.ts <= shown.ts) return;
    sampleVehicle(v, now);
    projectToWorld(p.lat, p.lon, world);
    const gap = shown ? p.ts - shown.ts : Infinity;
    const glide = gap <= SNAP_GAP_MS;
    if (p.course !== undefined) {
      v.toCourse = p.course;
      v.hasCourse = true;
    } else if (shown && (world.x !== v.toX || world.y !== v.toY)) {
      // No reported course: point along the movement instead of showing a stale heading.
      v.toCourse = (Math.atan2(world.x - v.toX, v.toY - world.y) * 180) / Math.PI;
      v.hasCourse = true;
    }
    v.fromX = glide ? v.x : world.x;
    v.fromY = glide ? v.y : world.y;
    v.fromCourse = glide && v.hasCourse ? v.course : v.toCourse;
    v.toX = world.x;
    v.toY = world.y;
    v.animStart = now;
    v.animEnd = glide ? now + Math.min(MAX_GLIDE_MS, Math.max(MIN_GLIDE_MS, gap)) : now;
    if (v.animEnd > this.animatingUntil) this.animatingUntil = v.animEnd;
    v.position = p;
    if (!glide) sampleVehicle(v, now);
  }

  private commit(kind: ChangeKind, removed: readonly string[]): void {
    const counts: StatusCounts = { moving: 0, stopped: 0, offline: 0 };
    for (const v of this.list) counts[v.status]++;
    const old = this.counts;
    if (
      old.moving !== counts.moving ||
      old.stopped !== counts.stopped ||
      old.offline !== counts.offline
    ) {
      this.counts = counts;
    }
    this.total = this.list.length;
    this.version++;
    for (const listener of this.listeners) listener(kind, removed);
  }
}

export const fleet = new Fleet();
