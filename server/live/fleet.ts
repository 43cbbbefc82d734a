import type { LiveDevice, LiveUpdate, Position } from "../../protocol/index.ts";
import { TRAIL_STRIDE } from "../../protocol/index.ts";
import type { LatestFix } from "../stores/ports.ts";
import { deviceStatus, motionOf, type Motion, type StatusRules } from "./status.ts";

interface Tracked {
  live: LiveDevice;
  motion: Motion;
  /** Groups it belongs to: who may see it, kept for the moment it is removed. */
  groups: readonly string[];
  /** Fixes newer than the last batch's, flattened [ts, lat, lon, ...]; the last is `live.position`. */
  fresh: number[];
}

/** What a device is as the directory knows it: its id, display name and groups. */
export interface DeviceLabel {
  deviceId: string;
  name: string | null;
  groups: readonly string[];
}

/** What changed since the last batch was taken. */
export interface FleetChanges {
  updates: LiveUpdate[];
  /** Removed devices, with the groups they were in (who could see them). */
  removed: { id: string; groups: readonly string[] }[];
}

/**
 * The fleet as dashboards see it: each device's newest plausible fix, its status and name, and
 * what changed since the last batch. Registered devices that never reported are part of it, with
 * no position. Pure state: LiveHub decides when to take changes and who receives them.
 */
export class LiveFleet {
  private readonly devices = new Map<string, Tracked>();
  private dirty = new Set<string>();
  private removed: FleetChanges["removed"] = [];

  constructor(private readonly rules: StatusRules) {}

  /** Start from the store's newest fixes and the directory's devices. */
  seed(latest: Iterable<LatestFix>, labels: Iterable<DeviceLabel>, now: number): void {
    for (const label of labels) this.label(label, now);
    for (const { deviceId, latest: position, latestReceivedAt } of latest) {
      const t = this.track(deviceId, now);
      t.live.position = position;
      t.live.lastSeen = latestReceivedAt ?? 0;
      t.motion = { speed: position?.speed ?? 0, until: Infinity };
      t.live.status = deviceStatus(t.motion, t.live.lastSeen, now, this.rules);
    }
    this.dirty.clear();
  }

  /** Newly stored plausible fixes of a device; `receivedAt` null for fixes from a file. */
  stored(deviceId: string, fixes: Position[], receivedAt: number | null, now: number): void {
    const t = this.track(deviceId, now);
    const live = t.live;
    if (receivedAt !== null) live.lastSeen = Math.max(live.lastSeen, receivedAt);
    // A buffered backlog can arrive after live fixes: it belongs in history, but the map must
    // never jump back, so only a fix newer than the one shown replaces it (and joins the trail).
    let newest = live.position;
    for (const p of inTimeOrder(fixes)) {
      if (!newest || p.ts > newest.ts) {
        t.motion = motionOf(p, newest, receivedAt ?? now);
        t.fresh.push(p.ts, p.lat, p.lon);
        newest = p;
      }
    }
    live.position = newest;
    live.status = deviceStatus(t.motion, live.lastSeen, now, this.rules);
    this.dirty.add(deviceId);
  }

  /** A device registered, renamed or regrouped. */
  label({ deviceId, name, groups }: DeviceLabel, now: number): void {
    const t = this.track(deviceId, now);
    t.groups = groups;
    if ((t.live.name ?? null) === name) return;
    if (name === null) delete t.live.name;
    else t.live.name = name;
    this.dirty.add(deviceId);
  }

  remove(deviceId: string): void {
    const t = this.devices.get(deviceId);
    if (!t) return;
    this.devices.delete(deviceId);
    this.dirty.delete(deviceId);
    this.removed.push({ id: deviceId, groups: t.groups });
  }

  /** Devices whose status changed with the passing of time (gone silent, stopped moving). */
  sweep(now: number): void {
    for (const [id, t] of this.devices) {
      const status = deviceStatus(t.motion, t.live.lastSeen, now, this.rules);
      if (status !== t.live.status) {
        t.live.status = status;
        this.dirty.add(id);
      }
    }
  }

  get changed(): boolean {
    return this.dirty.size > 0 || this.removed.length > 0;
  }

  /** What changed since the last call, and forget it. */
  take(): FleetChanges {
    const updates: LiveUpdate[] = [];
    for (const id of this.dirty) {
      const t = this.devices.get(id);
      if (!t) continue;
      const update: LiveUpdate = { ...t.live };
      // The newest fix travels as `position`; only the ones before it need the trail.
      if (t.fresh.length > TRAIL_STRIDE) update.trail = t.fresh.slice(0, -TRAIL_STRIDE);
      t.fresh = [];
      updates.push(update);
    }
    const removed = this.removed;
    this.dirty = new Set();
    this.removed = [];
    return { updates, removed };
  }

  list(): LiveDevice[] {
    return [...this.devices.values()].map((t) => t.live);
  }

  private track(deviceId: string, now: number): Tracked {
    let t = this.devices.get(deviceId);
    if (!t) {
      const motion = { speed: 0, until: Infinity };
      t = {
        motion,
        groups: [],
        fresh: [],
        live: {
          id: deviceId,
          position: null,
          lastSeen: 0,
          status: deviceStatus(motion, 0, now, this.rules),
        },
      };
      this.devices.set(deviceId, t);
      this.dirty.add(deviceId);
    }
    return t;
  }
}

/** Reports are almost always in time order already; sort a copy only when one is not. */
function inTimeOrder(positions: Position[]): Position[] {
  for (let i = 1; i < positions.length; i++) {
    if (positions[i]!.ts < positions[i - 1]!.ts) return [...positions].sort((a, b) => a.ts - b.ts);
  }
  return positions;
}
