import type { Position } from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { EventStore, LatestFix, NewEvent, PositionStore } from "../stores/ports.ts";

type Spot = { ts: number; lat: number; lon: number };

/** The sweep runs every quarter of the threshold, but at least this often. */
const MAX_SWEEP_EVERY_MS = 30_000;

/**
 * Offline and online. A device that has sent no fix for longer than `--offline-minutes` gets one
 * `offline` event, timed at its last fix plus the threshold and placed at that fix; its next fix
 * that is not itself that old gets one `online`, timed at that fix (never before the offline).
 *
 * Unlike the other rules these depend on the clock, not only on the fixes, so they are not part
 * of the per-device rule state: the offline event row itself is what is remembered. Every node
 * keeps each device's newest fix in memory (its own and its peers'), seeded from the store at
 * start, so a device that went silent while the server was down gets its event on the first
 * sweep. Exactly once:
 * - in a cluster only the node leading background work sweeps and records
 *   (Stores.leadsBackgroundWork); a node that just lost the lead and the next one would write the
 *   same natural key (device, type, time), and the store keeps one of equal keys;
 * - before recording, the store is asked whether the device has a newer fix (committed on a node
 *   whose message was lost or is in flight) and what its newest offline / online event is: an
 *   offline there means this silence is already recorded (before a restart, perhaps under another
 *   threshold), so it is only remembered, and the device's next fix records its online.
 */
export class OfflineWatch {
  private readonly lastFix = new Map<string, Spot>();
  /** Devices recorded offline: the time of that offline event. */
  private readonly offline = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Online events being written: a sweep (and a stop) waits for them. */
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      events: Pick<EventStore, "list">;
      positions: Pick<PositionStore, "page">;
      /** Store events made outside the rules and tell the listeners (EventService.recordDirect). */
      record: (events: NewEvent[]) => Promise<void>;
      clock: Clock;
      leads: () => boolean;
      logger: Logger;
      /** 0: neither offline nor online. */
      offlineMs: number;
    },
  ) {}

  seed(latest: readonly LatestFix[]): void {
    for (const { deviceId, latest: fix } of latest) if (fix) this.saw(deviceId, [fix]);
  }

  /** Plausible fixes of a device were stored (here or on a peer). */
  saw(deviceId: string, fixes: readonly Position[]): void {
    const { offlineMs, clock } = this.deps;
    if (offlineMs <= 0 || fixes.length === 0) return;
    let newest = fixes[0]!;
    for (const fix of fixes) if (fix.ts > newest.ts) newest = fix;
    const known = this.lastFix.get(deviceId);
    if (known && newest.ts <= known.ts) return;
    const spot = { ts: newest.ts, lat: newest.lat, lon: newest.lon };
    this.lastFix.set(deviceId, spot);
    const offlineAt = this.offline.get(deviceId);
    // A device uploading fixes it kept while out of reach, all older than the threshold, is not
    // back yet: it stays offline (and the sweep does not record this silence again).
    if (offlineAt === undefined || clock.now() - newest.ts > offlineMs) return;
    this.offline.delete(deviceId);
    if (!this.deps.leads()) return;
    const ts = Math.max(newest.ts, offlineAt);
    const online: NewEvent = {
      ...spot,
      deviceId,
      type: "online",
      ts,
      geofenceId: null,
      details: { offlineS: Math.round((ts - offlineAt) / 1000) },
    };
    const write = this.deps
      .record([online])
      .catch((err: unknown) => this.deps.logger.error({ err, deviceId }, "recording online failed"))
      .finally(() => this.writing.delete(write));
    this.writing.add(write);
  }

  /** The device was removed. */
  forget(deviceId: string): void {
    this.lastFix.delete(deviceId);
    this.offline.delete(deviceId);
  }

  start(): void {
    const { offlineMs } = this.deps;
    if (offlineMs <= 0 || this.timer) return;
    const every = Math.max(1000, Math.min(MAX_SWEEP_EVERY_MS, offlineMs / 4));
    // A slow pass (a store far away) is not queued behind again and again.
    this.timer = setInterval(() => void (this.running ?? this.sweep()), every).unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await Promise.all(this.writing);
  }

  /**
   * A pass over the devices that starts after any under way (so it reads the clock as it is
   * now); tests call it after moving their clock.
   */
  sweep(): Promise<void> {
    const pass = (this.running ?? Promise.resolve())
      .then(() => this.sweepOnce())
      .catch((err: unknown) => this.deps.logger.error({ err }, "offline sweep failed"));
    this.running = pass;
    void pass.then(() => {
      if (this.running === pass) this.running = null;
    });
    return pass;
  }

  private async sweepOnce(): Promise<void> {
    await Promise.all(this.writing);
    const { offlineMs, clock, leads } = this.deps;
    if (offlineMs <= 0 || !leads()) return;
    const now = clock.now();
    const silent = [...this.lastFix].filter(
      ([deviceId, last]) => now - last.ts > offlineMs && !this.offline.has(deviceId),
    );
    for (const [deviceId, last] of silent) {
      if (!leads()) return;
      if (await this.newerFix(deviceId, last)) continue;
      const [status] = await this.deps.events.list({
        deviceIds: [deviceId],
        types: ["offline", "online"],
        limit: 1,
      });
      if (this.lastFix.get(deviceId) !== last) continue; // a fix came in meanwhile
      if (status?.type === "offline") {
        this.offline.set(deviceId, status.ts);
        continue;
      }
      const event: NewEvent = {
        deviceId,
        type: "offline",
        ts: last.ts + offlineMs,
        lat: last.lat,
        lon: last.lon,
        geofenceId: null,
        details: { lastFixAt: last.ts },
      };
      // Marked first, so a fix arriving while it is written is taken as the device's return.
      this.offline.set(deviceId, event.ts);
      try {
        await this.deps.record([event]);
      } catch (err) {
        if (this.offline.get(deviceId) === event.ts) this.offline.delete(deviceId);
        throw err;
      }
    }
  }

  /**
   * A fix of the device newer than the one known here is in the store: it is not silent. The
   * first such fix is learnt (the messages about the rest will follow, or the next sweep asks).
   */
  private async newerFix(deviceId: string, last: Spot): Promise<boolean> {
    const [newer] = await this.deps.positions.page(deviceId, {
      from: last.ts + 1,
      to: Number.MAX_SAFE_INTEGER,
      limit: 1,
    });
    if (newer) this.saw(deviceId, [newer]);
    return newer !== undefined;
  }
}
