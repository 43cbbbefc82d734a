import { io, type Socket } from "socket.io-client";
import { LIVE_NAMESPACE } from "../../../protocol/events.ts";
import type { FleetEvent } from "../../../protocol/geofence.ts";
import type { LiveClientToServer, LiveServerToClient } from "../../../protocol/index.ts";
import { connection, type ConnectionState } from "./state/connection.svelte.ts";
import type { Fleet } from "./state/fleet.svelte.ts";

// LIVE_NAMESPACE comes from events.ts directly: protocol/index.ts also re-exports the zod
// validators, which the dashboard has no use for.

/** Failed attempts in a row before "reconnecting" becomes "offline" (socket.io keeps trying). */
const ATTEMPTS_BEFORE_OFFLINE = 3;

/** What the server's auth middleware answers a handshake without a valid session cookie. */
function isUnauthorized(err: Error & { data?: { code?: string } }): boolean {
  return err.message === "unauthorized" || err.data?.code === "unauthorized";
}

/**
 * The only owner of the live socket. Every connect, reconnects included, starts with a
 * `fleet:snapshot` that replaces the fleet; `fleet:updated` batches are deltas on top of it. A
 * reconnect the server recovered (clusters) gets the missed batches instead; a snapshot may also
 * come at any time (a cluster node resynchronising), and simply replaces the fleet again.
 * The handshake carries the session cookie (same origin); when the server refuses it, the socket
 * stops and `onUnauthorized` runs. Returns a function that closes the socket.
 *
 * `fleet:event` (a fence crossed, an overspeed) goes to `onEvent`; `onResync` runs on every
 * snapshot after the first, when whatever was missed while away should be fetched again.
 */
export function startLive(
  fleet: Fleet,
  onUnauthorized: () => void,
  hooks: { onEvent?: (event: FleetEvent) => void; onResync?: () => void } = {},
): () => void {
  // A previous session's socket may have left "live" behind.
  connection.state = "connecting";
  connection.lastMessageAt = 0;
  const socket: Socket<LiveServerToClient, LiveClientToServer> = io(LIVE_NAMESPACE, {
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  let failures = 0;
  let hadSnapshot = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  socket.on("fleet:snapshot", (snapshot) => {
    fleet.replace(snapshot);
    if (hadSnapshot) hooks.onResync?.();
    hadSnapshot = true;
    failures = 0;
    connection.state = "live";
    connection.lastMessageAt = Date.now();
  });

  socket.on("fleet:updated", (batch) => {
    fleet.apply(batch);
    connection.lastMessageAt = Date.now();
  });

  socket.on("fleet:event", (event) => {
    hooks.onEvent?.(event);
    connection.lastMessageAt = Date.now();
  });

  // "live" only once the snapshot lands: before it the map may still show stale positions.
  const retrying = (): ConnectionState => (hadSnapshot ? "reconnecting" : "connecting");

  socket.on("connect", () => {
    // A cluster (Redis adapter) may recover the connection: the batches missed while away are
    // replayed instead of a snapshot, so the map is live at once.
    if (socket.recovered && hadSnapshot) {
      failures = 0;
      connection.state = "live";
    } else if (connection.state === "offline") connection.state = retrying();
  });

  socket.on("disconnect", (reason) => {
    connection.state = navigator.onLine ? "reconnecting" : "offline";
    // A server-side disconnect (e.g. a restart) is not retried by socket.io on its own.
    // Cleared on close: a late retry would reopen a socket that belongs to an ended session.
    if (reason === "io server disconnect") retry = setTimeout(() => socket.connect(), 1000);
  });

  socket.on("connect_error", (err) => {
    if (isUnauthorized(err)) {
      // Retrying cannot help until someone signs in again, which starts a new socket.
      socket.close();
      onUnauthorized();
      return;
    }
    failures++;
    if (!navigator.onLine || failures >= ATTEMPTS_BEFORE_OFFLINE) connection.state = "offline";
    else connection.state = retrying();
  });

  const onOffline = () => {
    connection.state = "offline";
  };
  const onOnline = () => {
    // Skip the backoff wait: the network just came back.
    if (!socket.connected) {
      connection.state = retrying();
      socket.disconnect().connect();
    }
  };
  window.addEventListener("offline", onOffline);
  window.addEventListener("online", onOnline);

  return () => {
    window.removeEventListener("offline", onOffline);
    window.removeEventListener("online", onOnline);
    clearTimeout(retry);
    socket.close();
  };
}
