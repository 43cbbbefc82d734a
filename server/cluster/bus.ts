import type { Namespace, Server } from "socket.io";
import type { LiveHub } from "../live/hub.ts";
import type { Logger } from "../logger.ts";
import type { Services } from "../services/index.ts";
import type { PositionStore } from "../stores/ports.ts";
import {
  CLUSTER_NAMESPACE,
  EVENTS,
  readDeviceMessage,
  readEventMessage,
  readFeedsEnd,
  readGeofenceMessage,
  readFixes,
  type FixesEntry,
} from "./messages.ts";
import type { RedisLink } from "./redis.ts";

export interface ClusterBusDeps {
  io: Server;
  hub: LiveHub;
  services: Pick<Services, "positions" | "devices" | "people" | "geofences" | "events">;
  /** Each device's newest fix, re-read after an outage. */
  positionStore: Pick<PositionStore, "latest">;
  redis: RedisLink;
  logger: Logger;
}

/**
 * The cluster bus: what the services decide on this node reaches the other nodes, and what they
 * decided reaches this node's services, through socket.io's own adapter (server-side events on a
 * namespace no client may join). It carries; it decides nothing.
 *
 * - Committed fixes go out once per commit batch (every report that one group commit
 *   acknowledged), never per fix; the other nodes' live maps, plausibility chains and online
 *   status take them as if reported there.
 * - Device changes and ended feeds go out as they happen, so removing a device or withdrawing a
 *   user's access on one node cuts them off on every node.
 * - Publishing never waits and never fails a caller: while Redis is away nothing is sent (the
 *   ack of a report depends only on its commit). When it is back, every node re-reads what it
 *   may have missed from the shared store, and its dashboards start over from a snapshot.
 */
export function attachClusterBus(deps: ClusterBusDeps): { close(): void } {
  const { io, hub, redis, logger, positionStore } = deps;
  const { positions, devices, people, geofences, events } = deps.services;
  const nsp: Namespace = io.of(CLUSTER_NAMESPACE);
  nsp.use((_socket, next) => next(new Error("not a client namespace")));

  let closed = false;
  const send = (event: string, payload: unknown) => {
    if (closed || !redis.up) return false;
    nsp.serverSideEmit(event, payload);
    return true;
  };

  // ---- out: this node's decisions -------------------------------------------------------
  let pending: FixesEntry[] = [];
  let flushQueued = false;
  let droppedWhileDown = 0;
  const flush = () => {
    flushQueued = false;
    const batch = pending;
    pending = [];
    if (!send(EVENTS.fixes, batch)) droppedWhileDown += batch.length;
  };
  positions.onStored((deviceId, plausible, receivedAt, origin) => {
    if (origin !== "here") return;
    pending.push([deviceId, receivedAt, plausible]);
    // One group commit resolves many reports in the same turn of the event loop: they leave
    // together, after it.
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  });
  devices.onChange((change, origin) => {
    if (origin !== "here") return;
    const deviceId = change.type === "removed" ? change.deviceId : change.device.deviceId;
    send(EVENTS.device, { type: change.type, deviceId });
  });
  people.onFeedsEnd((user, why, origin) => {
    if (origin === "here") send(EVENTS.feedsEnd, { user, why });
  });
  geofences.onChange((change, origin) => {
    if (origin === "here") send(EVENTS.geofence, change);
  });
  // Only events derived here: another node's reach this one through the bus, once.
  events.onEvent((event) => send(EVENTS.event, event));

  // ---- in: the other nodes' decisions ----------------------------------------------------
  const ignore = (what: string, raw: unknown) =>
    logger.warn(
      { what, sample: String(JSON.stringify(raw)).slice(0, 200) },
      "cluster: bad message dropped",
    );
  nsp.on(EVENTS.fixes, (raw: unknown) => {
    try {
      const { entries, dropped } = readFixes(raw);
      if (dropped > 0) ignore("fixes", raw);
      for (const [deviceId, receivedAt, fixes] of entries) {
        positions.adoptPeerFixes(deviceId, fixes, receivedAt);
      }
    } catch (err) {
      logger.error({ err }, "cluster: applying fixes from another node failed");
    }
  });
  // A device's changes are applied one at a time, in the order they were announced; different
  // devices' at once, so that a burst of them (a fleet of new devices connecting to another node)
  // costs this node a few batched reads of the store, not one round trip each in a long queue.
  const deviceChanges = new Map<string, Promise<void>>();
  nsp.on(EVENTS.device, (raw: unknown) => {
    const message = readDeviceMessage(raw);
    if (!message) return ignore("device", raw);
    const { type, deviceId } = message;
    const next = (deviceChanges.get(deviceId) ?? Promise.resolve())
      .then(() => devices.adoptPeerChange(type, deviceId))
      .catch((err: unknown) => logger.error({ err }, "cluster: applying a device change failed"));
    deviceChanges.set(deviceId, next);
    void next.then(() => {
      if (deviceChanges.get(deviceId) === next) deviceChanges.delete(deviceId);
    });
  });
  nsp.on(EVENTS.feedsEnd, (raw: unknown) => {
    const message = readFeedsEnd(raw);
    if (!message) return ignore("feeds-end", raw);
    try {
      people.adoptPeerFeedsEnd(message.user, message.why);
    } catch (err) {
      logger.error({ err }, "cluster: ending feeds for another node failed");
    }
  });

  let fenceChanges = Promise.resolve();
  nsp.on(EVENTS.geofence, (raw: unknown) => {
    const message = readGeofenceMessage(raw);
    if (!message) return ignore("geofence", raw);
    fenceChanges = fenceChanges
      .then(() => geofences.adoptPeerChange(message))
      .catch((err: unknown) => logger.error({ err }, "cluster: reloading geofences failed"));
  });
  nsp.on(EVENTS.event, (raw: unknown) => {
    const event = readEventMessage(raw);
    if (!event) return ignore("event", raw);
    hub.pushEvent(event);
  });

  // ---- Redis away and back ---------------------------------------------------------------
  let resyncing: Promise<void> | null = null;
  const resync = async () => {
    // What the other nodes announced meanwhile is in the shared store: take it from there.
    await devices.resync();
    for (const { deviceId, latest, latestReceivedAt } of await positionStore.latest()) {
      if (latest) positions.adoptPeerFixes(deviceId, [latest], latestReceivedAt);
    }
    // Access withdrawn elsewhere meanwhile: each open feed's credentials are asked again.
    await hub.recheckFeeds();
  };
  redis.onStatus((up) => {
    if (!up) return hub.setRelay(false);
    logger.info({ dropped: droppedWhileDown }, "cluster: catching up from the store");
    droppedWhileDown = 0;
    resyncing ??= resync()
      .catch((err: unknown) => logger.error({ err }, "cluster: catching up failed"))
      .finally(() => {
        resyncing = null;
        if (!closed) hub.setRelay(redis.up);
      });
  });

  return {
    close() {
      closed = true;
    },
  };
}
