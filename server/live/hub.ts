import { randomBytes } from "node:crypto";
import type { Namespace } from "socket.io";
import type {
  LiveBatch,
  LiveClientToServer,
  LiveServerToClient,
  LiveSnapshot,
  Position,
} from "../../protocol/index.ts";
import type { FleetEvent } from "../../protocol/geofence.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { accessChange, type AccessService, type User } from "../services/access.ts";
import type { DeviceChange } from "../services/devices.ts";
import type { FeedEnd } from "../services/people.ts";
import { LiveFleet, type FleetChanges } from "./fleet.ts";
import { RecoveryRules } from "./recovery.ts";
import type { StatusRules } from "./status.ts";

export type LiveNamespace = Namespace<
  LiveClientToServer,
  LiveServerToClient,
  Record<string, never>,
  {
    user: User;
    /** When this node last checked the user (server time): what a recovery is judged by. */
    since?: number;
  }
>;
type LiveSocket = Parameters<Parameters<LiveNamespace["on"]>[1]>[0];

/**
 * Dashboards whose user sees every device share one broadcast in this room. Each node has its
 * own: with the cluster adapter a broadcast reaches the room on every node, and every node sends
 * its own dashboards the whole fleet already (the bus brings it the other nodes' fixes).
 */
const ALL_DEVICES_ROOM_PREFIX = "all-devices:";

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
  /** Who the connection's credentials identify now, when it can be asked again. */
  identify?(): Promise<User | null>;
}

/** How often devices are checked for going silent or still; status changes ride the next tick. */
const SWEEP_MS = 1000;

/**
 * The live fan-out. Committed positions, device changes and the passing of time update the
 * fleet (LiveFleet); every tick one `fleet:updated` carrying only what changed since the last
 * tick is broadcast, serialised once for all dashboards that see every device, whatever the
 * number of positions that arrived. Dashboards limited to some devices get their own slice.
 *
 * The tick is driven from two sides. A timer covers quiet times. Under load the commit path itself
 * fires the tick once it is due: a Node process saturated with socket reads can go seconds without
 * running timers (libuv keeps polling while every poll returns a full set of events), and the map
 * would freeze exactly when the fleet is busiest.
 */
export class LiveHub {
  private readonly fleet: LiveFleet;
  private timer: NodeJS.Timeout | null = null;
  private lastTickAt: number;
  private lastSweepAt: number;
  private tickQueued = false;
  private closed = false;
  /** Dashboards limited to some devices: each gets its own filtered batch. */
  private readonly limited = new Set<LiveSocket>();
  private readonly sinks = new Set<LiveSink>();
  private readonly allDevicesRoom = ALL_DEVICES_ROOM_PREFIX + randomBytes(6).toString("hex");
  /** False while the cluster's Redis is away: socket.io dashboards, fed through it, wait. */
  private relayUp = true;
  private readonly recovery: RecoveryRules;

  constructor(
    private readonly nsp: LiveNamespace,
    private readonly access: Pick<AccessService, "canSee" | "canSeeIn" | "identify">,
    private readonly options: StatusRules & {
      tickMs: number;
      /** How long a disconnected dashboard may come back and be replayed what it missed (0: off). */
      recoveryWindowMs?: number;
    },
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.fleet = new LiveFleet(options);
    this.lastTickAt = this.lastSweepAt = clock.now();
    this.recovery = new RecoveryRules(options.recoveryWindowMs ?? 0, clock);
    this.recovery.guard(nsp);
    nsp.on("connection", (socket) => {
      const { user } = socket.data;
      this.recovery.connected(socket.id, socket.data);
      // A recovered session comes back in the rooms it had, perhaps on another node.
      for (const room of [...socket.rooms]) {
        if (room.startsWith(ALL_DEVICES_ROOM_PREFIX)) void socket.leave(room);
      }
      if (user.grant.all) void socket.join(this.allDevicesRoom);
      else this.limited.add(socket);
      socket.on("disconnect", (reason) => {
        this.limited.delete(socket);
        this.recovery.left(socket.id, user, reason);
      });
      // Every connect, reconnects included, starts from a full snapshot: deltas alone cannot
      // repair what a dashboard missed while it was away. Unless the cluster adapter recovered
      // the connection: then it has just been sent every batch it missed.
      if (!socket.recovered) socket.emit("fleet:snapshot", this.snapshot(user));
      logger.debug(
        { id: socket.id, user: user.name, recovered: socket.recovered },
        "dashboard connected",
      );
    });
    this.schedule();
  }

  /** The state to start from: the store's newest fixes and the directory's devices. */
  seed(...args: Parameters<LiveFleet["seed"]>): void {
    this.fleet.seed(...args);
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), this.options.tickMs);
  }

  /** PositionService's StoredListener: called after commit with the newly stored fixes. */
  readonly onStored = (deviceId: string, stored: Position[], receivedAt: number | null): void => {
    const now = this.clock.now();
    this.fleet.stored(deviceId, stored, receivedAt, now);
    // Queued behind the other reports of the same group commit, so one batch carries them all.
    if (!this.tickQueued && now - this.lastTickAt >= this.options.tickMs) {
      this.tickQueued = true;
      queueMicrotask(() => this.tick());
    }
  };

  /** DeviceService's listener: a device appeared, changed or went. */
  readonly onDeviceChange = (change: DeviceChange): void => {
    if (change.type === "removed") return this.fleet.remove(change.deviceId);
    const { deviceId, name, groups } = change.device;
    this.fleet.label({ deviceId, name, groups }, this.clock.now());
    if (change.type === "updated" && change.before.groups.join() !== groups.join()) {
      // A limited dashboard for which the device came into or out of view starts over from a
      // snapshot: a delta cannot add a device it never had, nor say why one went.
      const changed = (user: User) =>
        this.access.canSeeIn(user, deviceId, change.before.groups) !==
        this.access.canSeeIn(user, deviceId, groups);
      this.recovery.limitedViewsChanged();
      for (const socket of this.limited) if (changed(socket.data.user)) socket.disconnect(true);
      for (const sink of this.sinks) if (changed(sink.user)) sink.end("access_changed");
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
    this.recovery.feedsEnded(userName);
    for (const socket of this.nsp.sockets.values()) {
      if (socket.data.user.name === userName) socket.disconnect(true);
    }
    for (const sink of this.sinks) if (sink.user.name === userName) sink.end(why);
  }

  /**
   * The cluster's Redis went away (false) or came back (true). Meanwhile socket.io dashboards get
   * nothing (their batches would pile up in the Redis client's queue); plain WebSocket viewers do
   * not depend on Redis and go on. Once back, everyone starts over from a fresh snapshot.
   */
  setRelay(up: boolean): void {
    this.relayUp = up;
    if (up) this.resync();
  }

  /** A fresh snapshot to every dashboard and viewer: what they missed, deltas cannot repair. */
  resync(): void {
    for (const socket of this.nsp.sockets.values()) {
      socket.emit("fleet:snapshot", this.snapshot(socket.data.user));
    }
    for (const sink of this.sinks) sink.snapshot(this.snapshot(sink.user));
  }

  /**
   * Ask every open feed's credentials again who they identify, and end the feeds whose access was
   * withdrawn or changed: for when this node may have missed another node's word of it (the
   * cluster's Redis was away).
   */
  async recheckFeeds(): Promise<void> {
    const recheck = async (
      user: User,
      identify: () => Promise<User | null>,
      end: (why: FeedEnd) => void,
    ) => {
      const why = accessChange(user, await identify());
      if (why) end(why);
    };
    const checks: Promise<void>[] = [];
    for (const socket of this.nsp.sockets.values()) {
      const { headers, auth } = socket.handshake;
      const identify = () => this.access.identify(headers, auth?.token);
      checks.push(recheck(socket.data.user, identify, () => socket.disconnect(true)));
    }
    for (const sink of this.sinks) {
      const identify = sink.identify?.bind(sink);
      if (identify) checks.push(recheck(sink.user, identify, (why) => sink.end(why)));
    }
    for (const result of await Promise.allSettled(checks)) {
      if (result.status === "rejected") {
        this.logger.error({ err: result.reason }, "checking a live feed's access failed");
      }
    }
  }

  snapshot(user: User): LiveSnapshot {
    return {
      serverTime: this.clock.now(),
      tickMs: this.options.tickMs,
      devices: this.list().filter((d) => this.access.canSee(user, d.id)),
    };
  }

  list(): LiveSnapshot["devices"] {
    return this.fleet.list();
  }

  /** Send what changed since the last tick, if anything did and anyone is watching. */
  tick(): void {
    const now = this.clock.now();
    this.tickQueued = false;
    this.lastTickAt = now;
    this.schedule();
    if (now - this.lastSweepAt >= SWEEP_MS) {
      this.lastSweepAt = now;
      this.fleet.sweep(now);
    }
    if (!this.fleet.changed) return;
    const changes = this.fleet.take();
    const watched = this.nsp.sockets.size > 0 || this.sinks.size > 0;
    if (!watched && !this.recovery.pending(now)) return;
    const batch: LiveBatch = { serverTime: now, devices: changes.updates };
    if (changes.removed.length > 0) batch.removed = changes.removed.map((r) => r.id);
    if (this.relayUp) {
      // Serialised once for every all-devices dashboard; limited ones get their own slice.
      this.nsp.to(this.allDevicesRoom).emit("fleet:updated", batch);
      for (const socket of this.limited) {
        const slice = this.sliceFor(socket.data.user, batch, changes);
        if (slice) socket.emit("fleet:updated", slice);
      }
      for (const [id, user] of this.recovery.awayLimited(now)) {
        const slice = this.sliceFor(user, batch, changes);
        if (slice) this.nsp.to(id).emit("fleet:updated", slice);
      }
    }
    for (const sink of this.sinks) {
      const slice = sink.user.grant.all ? batch : this.sliceFor(sink.user, batch, changes);
      if (slice) sink.batch(slice);
    }
  }

  /**
   * An event (a fence crossed, an overspeed) to this node's dashboards that may see its device.
   * Each node delivers the events it derived and those the cluster bus brought, to its own sockets.
   */
  pushEvent(event: FleetEvent): void {
    for (const socket of this.nsp.sockets.values()) {
      if (this.access.canSee(socket.data.user, event.deviceId)) socket.emit("fleet:event", event);
    }
  }

  /** The part of a batch a limited user may see, or null when nothing. */
  private sliceFor(user: User, batch: LiveBatch, changes: FleetChanges): LiveBatch | null {
    const devices = batch.devices.filter((d) => this.access.canSee(user, d.id));
    const removed = changes.removed
      .filter((r) => this.access.canSeeIn(user, r.id, r.groups))
      .map((r) => r.id);
    if (devices.length === 0 && removed.length === 0) return null;
    const slice: LiveBatch = { serverTime: batch.serverTime, devices };
    if (removed.length > 0) slice.removed = removed;
    return slice;
  }

  close(): void {
    this.tick();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
