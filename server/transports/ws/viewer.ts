import { WebSocket } from "ws";
import type { LiveBatch, LiveSnapshot } from "../../../protocol/index.ts";
import { WS_CLOSE } from "../../../protocol/ws.ts";
import type { Clock } from "../../clock.ts";
import type { LiveSink } from "../../live/hub.ts";
import type { User } from "../../services/access.ts";
import type { FeedEnd } from "../../services/people.ts";

export interface ViewerLimits {
  /** Unsent bytes queued for one viewer above which its batches are skipped. */
  lagBytes: number;
  /** How long a viewer may stay behind before it is disconnected. */
  maxLagMs: number;
}

export const DEFAULT_VIEWER_LIMITS: ViewerLimits = { lagBytes: 1024 * 1024, maxLagMs: 30_000 };

/**
 * The hub hands the same batch object to every viewer that sees all devices: it is serialised
 * once, on first use, and the bytes are shared by every socket.
 */
const encodedBatches = new WeakMap<LiveBatch, Buffer>();

function encodeBatch(batch: LiveBatch): Buffer {
  let bytes = encodedBatches.get(batch);
  if (!bytes) {
    bytes = Buffer.from(JSON.stringify({ type: "batch", ...batch }));
    encodedBatches.set(batch, bytes);
  }
  return bytes;
}

/**
 * A plain-WebSocket viewer fed by the live hub. A viewer that reads slower than the fleet moves
 * would make the server queue its frames without bound; instead, while its socket holds more than
 * `lagBytes` unsent, its batches are skipped, and once it has caught up it gets a fresh snapshot
 * (deltas alone cannot repair what it missed). One that stays behind for `maxLagMs` is closed.
 */
export class WsViewer implements LiveSink {
  private behindSince: number | null = null;
  private catchUpTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly user: User,
    private readonly socket: WebSocket,
    private readonly currentSnapshot: (user: User) => LiveSnapshot,
    private readonly clock: Clock,
    private readonly limits: ViewerLimits = DEFAULT_VIEWER_LIMITS,
    /** Asks the viewer's credentials again who they identify (see LiveHub.recheckFeeds). */
    readonly identify?: () => Promise<User | null>,
  ) {
    socket.once("close", () => this.stopWaiting());
  }

  snapshot(snapshot: LiveSnapshot): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify({ type: "snapshot", ...snapshot }));
  }

  batch(batch: LiveBatch): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (this.behindSince !== null || this.lagging()) return this.fallBehind();
    this.socket.send(encodeBatch(batch), { binary: false });
  }

  end(why: FeedEnd): void {
    if (why === "signed_out")
      this.socket.close(WS_CLOSE.unauthorized, "signed out: access withdrawn");
    else this.socket.close(WS_CLOSE.accessChanged, "access changed: reconnect");
  }

  private lagging(): boolean {
    return this.socket.bufferedAmount > this.limits.lagBytes;
  }

  private fallBehind(): void {
    this.behindSince ??= this.clock.now();
    // Checked on a timer too, so a viewer catches up even if the fleet then goes quiet.
    this.catchUpTimer ??= setInterval(() => this.tryCatchUp(), 250);
    this.tryCatchUp();
  }

  private tryCatchUp(): void {
    if (this.behindSince === null || this.socket.readyState !== WebSocket.OPEN) {
      return this.stopWaiting();
    }
    if (this.lagging()) {
      if (this.clock.now() - this.behindSince > this.limits.maxLagMs) {
        this.stopWaiting();
        this.socket.close(WS_CLOSE.tooSlow, "too slow: fell behind the live feed");
      }
      return;
    }
    this.stopWaiting();
    this.snapshot(this.currentSnapshot(this.user));
  }

  private stopWaiting(): void {
    this.behindSince = null;
    if (this.catchUpTimer) clearInterval(this.catchUpTimer);
    this.catchUpTimer = null;
  }
}
