import type { Namespace } from "socket.io";
import type {
  LiveBatch,
  LiveClientToServer,
  LiveDevice,
  LiveServerToClient,
  LiveSnapshot,
  LiveUpdate,
  Position,
} from "../../protocol/index.ts";
import { TRAIL_STRIDE } from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { StoredDevice } from "../store/position-store.ts";
import { canSee, type User } from "../store/user-store.ts";
import { deviceStatus, effectiveSpeed, type StatusRules } from "./status.ts";

export type LiveNamespace = Namespace<
  LiveClientToServer,
  LiveServerToClient,
  Record<string, never>,
  { user: User }
>;
type LiveSocket = Parameters<Parameters<LiveNamespace["on"]>[1]>[0];

/** Dashboards whose user sees every device share one broadcast in this room. */
const ALL_DEVICES_ROOM = "all-devices";

interface Tracked {
  live: LiveDevice;
  speed: number;
  /** Fixes newer than the last batch's, flattened [ts, lat, lon, ...]; the last is `live.position`. */
  fresh: number[];
}

/**
 * A viewer that is not a socket.io dashboard (a plain WebSocket, say). It gets the same snapshot
 * and batches, already filtered to what its user may see.
 */
export interface LiveSink {
  readonly user: User;
  snapshot(snapshot: LiveSnapshot): void;
  batch(batch: LiveBatch): void;
  /** The user's access was withdrawn or changed: close the connection, saying which. */
  end(why: FeedEnd): void;
}

/** Why a user's live feeds end early: their access was withdrawn, or it changed. */
export type FeedEnd = "signed_out" | "access_changed";

/** How often devices are checked for going silent; status changes ride the next tick. */
const SWEEP_MS = 1000;

/**
 * The fleet as dashboards see it, and its fan-out. Committed positions update the latest fix per
 * device and mark it dirty; every tick one `fleet:updated` carrying only the dirty devices (and
 * their fixes since the last tick) is broadcast, serialised once for all dashboards, whatever the
 * number of positions that arrived.
 *
 * The tick is driven from two sides. A timer covers quiet times. Under load the commit path itself
 * fires the tick once it is due: a Node process saturated with socket reads can go seconds without
 * running timers (libuv keeps polling while every poll returns a full set of events), and the map
 * would freeze exactly when the fleet is busiest.
 */
export class LiveHub {
  private readonly devices = new Map<string, Tracked>();
  private dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private lastTickAt: number;
  private lastSweepAt: number;
  private tickQueued = false;
  private closed = false;
  /** Dashboards limited to some devices: each gets its own filtered batch. */
  private readonly limited = new Set<LiveSocket>();
  private readonly sinks = new Set<LiveSink>();

  constructor(
    private readonly nsp: LiveNamespace,
    private readonly options: StatusRules & { tickMs: number },
    private readonly clock: Clock,
    private readonly logger: Logger,
    initial: StoredDevice[],
  ) {
    const now = clock.now();
    this.lastTickAt = this.lastSweepAt = now;
    for (const d of initial) {
      const lastSeen = d.latestReceivedAt ?? 0;
      const speed = d.latest?.speed ?? 0;
      this.devices.set(d.deviceId, {
        speed,
        fresh: [],
        live: {
          id: d.deviceId,
          position: d.latest,
          lastSeen,
          status: deviceStatus(speed, lastSeen, now, options),
        },
      });
    }
    nsp.on("connection", (socket) => {
      const { user } = socket.data;
      if (user.devices === "all") void socket.join(ALL_DEVICES_ROOM);
      else this.limited.add(socket);
      socket.on("disconnect", () => this.limited.delete(socket));
      // Every connect, reconnects included, starts from a full snapshot: deltas alone cannot
      // repair what a dashboard missed while it was away.
      socket.emit("fleet:snapshot", this.snapshot(user));
      logger.debug({ id: socket.id, user: user.name }, "dashboard connected");
    });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), this.options.tickMs);
  }

  /** Ingest's StoredListener: called after commit with the newly stored fixes of one report. */
  readonly onStored = (deviceId: string, stored: Position[], receivedAt: number): void => {
    let tracked = this.devices.get(deviceId);
    if (!tracked) {
      tracked = {
        speed: 0,
        fresh: [],
        live: { id: deviceId, position: null, lastSeen: receivedAt, status: "stopped" },
      };
      this.devices.set(deviceId, tracked);
    }
    const live = tracked.live;
    live.lastSeen = Math.max(live.lastSeen, receivedAt);
    // A buffered backlog can arrive after live fixes: it belongs in history, but the map must
    // never jump back, so only a fix newer than the one shown replaces it (and joins the trail).
    let newest = live.position;
    for (const p of inTimeOrder(stored)) {
      if (!newest || p.ts > newest.ts) {
        tracked.speed = effectiveSpeed(p, newest);
        tracked.fresh.push(p.ts, p.lat, p.lon);
        newest = p;
      }
    }
    live.position = newest;
    const now = this.clock.now();
    live.status = deviceStatus(tracked.speed, live.lastSeen, now, this.options);
    this.dirty.add(deviceId);
    // Queued behind the other reports of the same group commit, so one batch carries them all.
    if (!this.tickQueued && now - this.lastTickAt >= this.options.tickMs) {
      this.tickQueued = true;
      queueMicrotask(() => this.tick());
    }
  };

  /** Start feeding a sink: a snapshot now, then every tick's batch. Returns the unsubscribe. */
  subscribe(sink: LiveSink): () => void {
    this.sinks.add(sink);
    sink.snapshot(this.snapshot(sink.user));
    return () => this.sinks.delete(sink);
  }

  /**
   * End every live feed of a user whose access was withdrawn (removed, password reset) or changed
   * (role, grants): each feed holds the user as they were when it connected. A dashboard
   * reconnects on its own: with its session gone the handshake fails and it shows the sign-in
   * page; otherwise its fresh snapshot follows the new grants.
   */
  endFeeds(userName: string, why: FeedEnd): void {
    for (const socket of this.nsp.sockets.values()) {
      if (socket.data.user.name === userName) socket.disconnect(true);
    }
    for (const sink of this.sinks) if (sink.user.name === userName) sink.end(why);
  }

  snapshot(user: User): LiveSnapshot {
    return {
      serverTime: this.clock.now(),
      tickMs: this.options.tickMs,
      devices: this.list().filter((d) => canSee(user, d.id)),
    };
  }

  list(): LiveDevice[] {
    return [...this.devices.values()].map((t) => t.live);
  }

  /** Send what changed since the last tick, if anything did and anyone is watching. */
  tick(): void {
    const now = this.clock.now();
    this.tickQueued = false;
    this.lastTickAt = now;
    this.schedule();
    if (now - this.lastSweepAt >= SWEEP_MS) this.sweep(now);
    if (this.dirty.size === 0) return;
    const changed = this.dirty;
    this.dirty = new Set();
    const watched = this.nsp.sockets.size > 0 || this.sinks.size > 0;
    const batch: LiveBatch = { serverTime: now, devices: [] };
    for (const id of changed) {
      const tracked = this.devices.get(id);
      if (!tracked) continue;
      const { fresh } = tracked;
      tracked.fresh = [];
      if (!watched) continue;
      const update: LiveUpdate = { ...tracked.live };
      // The newest fix travels as `position`; only the ones before it need the trail.
      if (fresh.length > TRAIL_STRIDE) update.trail = fresh.slice(0, -TRAIL_STRIDE);
      batch.devices.push(update);
    }
    if (!watched) return;
    // Serialised once for every all-devices dashboard; limited ones get their own slice.
    this.nsp.to(ALL_DEVICES_ROOM).emit("fleet:updated", batch);
    for (const socket of this.limited) {
      const { user } = socket.data;
      const devices = batch.devices.filter((d) => canSee(user, d.id));
      if (devices.length > 0) socket.emit("fleet:updated", { ...batch, devices });
    }
    for (const sink of this.sinks) {
      if (sink.user.devices === "all") sink.batch(batch);
      else {
        const devices = batch.devices.filter((d) => canSee(sink.user, d.id));
        if (devices.length > 0) sink.batch({ ...batch, devices });
      }
    }
  }

  /** Mark devices that went silent as offline. */
  private sweep(now: number): void {
    this.lastSweepAt = now;
    for (const [id, t] of this.devices) {
      const status = deviceStatus(t.speed, t.live.lastSeen, now, this.options);
      if (status !== t.live.status) {
        t.live.status = status;
        this.dirty.add(id);
      }
    }
  }

  close(): void {
    this.tick();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** Reports are almost always in time order already; sort a copy only when one is not. */
function inTimeOrder(positions: Position[]): Position[] {
  for (let i = 1; i < positions.length; i++) {
    if (positions[i]!.ts < positions[i - 1]!.ts) return [...positions].sort((a, b) => a.ts - b.ts);
  }
  return positions;
}
