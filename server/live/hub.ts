import type { Namespace } from "socket.io";
import type {
  LiveBatch,
  LiveClientToServer,
  LiveDevice,
  LiveServerToClient,
  LiveSnapshot,
  Position,
} from "../../protocol/index.ts";
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
}

/**
 * A viewer that is not a socket.io dashboard (a plain WebSocket, say). It gets the same snapshot
 * and batches, already filtered to what its user may see.
 */
export interface LiveSink {
  readonly user: User;
  snapshot(snapshot: LiveSnapshot): void;
  batch(batch: LiveBatch): void;
}

/** How often devices are checked for going silent; status changes ride the next tick. */
const SWEEP_MS = 1000;

/**
 * The fleet as dashboards see it, and its fan-out. Committed positions update the latest fix per
 * device and mark it dirty; every tick one `fleet:updated` carrying only the dirty devices is
 * broadcast, serialised once for all dashboards, whatever the number of positions that arrived.
 */
export class LiveHub {
  private readonly devices = new Map<string, Tracked>();
  private dirty = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
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
    for (const d of initial) {
      const lastSeen = d.latestReceivedAt ?? 0;
      const speed = d.latest?.speed ?? 0;
      this.devices.set(d.deviceId, {
        speed,
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
    this.timers.push(setInterval(() => this.tick(), options.tickMs));
    this.timers.push(setInterval(() => this.sweep(), SWEEP_MS));
  }

  /** Ingest's StoredListener: called after commit with the newly stored fixes of one report. */
  readonly onStored = (deviceId: string, stored: Position[], receivedAt: number): void => {
    let tracked = this.devices.get(deviceId);
    if (!tracked) {
      tracked = {
        speed: 0,
        live: { id: deviceId, position: null, lastSeen: receivedAt, status: "stopped" },
      };
      this.devices.set(deviceId, tracked);
    }
    const live = tracked.live;
    live.lastSeen = Math.max(live.lastSeen, receivedAt);
    // A buffered backlog can arrive after live fixes: it belongs in history, but the map must
    // never jump back, so only a fix newer than the one shown replaces it.
    let newest = live.position;
    for (const p of stored) {
      if (!newest || p.ts > newest.ts) {
        tracked.speed = effectiveSpeed(p, newest);
        newest = p;
      }
    }
    live.position = newest;
    live.status = deviceStatus(tracked.speed, live.lastSeen, this.clock.now(), this.options);
    this.dirty.add(deviceId);
  };

  /** Start feeding a sink: a snapshot now, then every tick's batch. Returns the unsubscribe. */
  subscribe(sink: LiveSink): () => void {
    this.sinks.add(sink);
    sink.snapshot(this.snapshot(sink.user));
    return () => this.sinks.delete(sink);
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
    if (this.dirty.size === 0) return;
    const changed = this.dirty;
    this.dirty = new Set();
    if (this.nsp.sockets.size === 0 && this.sinks.size === 0) return;
    const batch: LiveBatch = { serverTime: this.clock.now(), devices: [] };
    for (const id of changed) {
      const tracked = this.devices.get(id);
      if (tracked) batch.devices.push(tracked.live);
    }
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
  sweep(): void {
    const now = this.clock.now();
    for (const [id, t] of this.devices) {
      const status = deviceStatus(t.speed, t.live.lastSeen, now, this.options);
      if (status !== t.live.status) {
        t.live.status = status;
        this.dirty.add(id);
      }
    }
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.tick();
  }
}
