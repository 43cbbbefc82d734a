import type { Namespace } from "socket.io";
import type { Clock } from "../clock.ts";
import type { User } from "../services/access.ts";

/**
 * Connection state recovery for dashboards (on with the cluster adapter): what the live hub must
 * remember so that a dashboard back from a short disconnect is replayed exactly what it missed,
 * and only when it may.
 *
 * - While a dashboard may still come back, its batches must still go out (the adapter keeps them
 *   in the Redis stream to replay): a limited dashboard's slices go to its own room.
 * - socket.io replays the missed batches before the handshake is checked again. A session from
 *   before its user's feeds were ended (access withdrawn or changed), or, for a limited user,
 *   before a device came into or out of view, is therefore not recovered: the dashboard starts
 *   over with a snapshot, or is refused. Every node hears of both through the cluster bus.
 */
export class RecoveryRules {
  /** Limited dashboards that lost their link, by socket id, with until when they may return. */
  private readonly away = new Map<string, { user: User; until: number }>();
  private recoverableUntil = 0;
  private readonly feedsEndedAt = new Map<string, number>();
  private limitedViewsChangedAt = 0;

  /** `windowMs` 0: recovery is off, and nothing is remembered. */
  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Refuse the adapter's restoring of sessions that must not come back. */
  guard(nsp: Namespace): void {
    const adapter = nsp.adapter;
    const restore = adapter.restoreSession?.bind(adapter);
    if (this.windowMs === 0 || !restore) return;
    adapter.restoreSession = async (pid, offset) => {
      const session = await restore(pid, offset);
      // Without a session to restore, socket.io starts a fresh connection.
      return session && this.mayRecover(session.data)
        ? session
        : (null as unknown as typeof session);
    };
  }

  /** A dashboard connected (or came back): stamp its data with the time its user was checked. */
  connected(socketId: string, data: { since?: number }): void {
    data.since = this.clock.now();
    this.away.delete(socketId);
  }

  /** A dashboard's link went; unless it was closed on purpose, it may come back for a while. */
  left(socketId: string, user: User, reason: string): void {
    if (this.windowMs === 0 || reason.endsWith("namespace disconnect")) return;
    const until = this.clock.now() + this.windowMs;
    this.recoverableUntil = until;
    if (!user.grant.all) this.away.set(socketId, { user, until });
  }

  /** Whether some dashboard may still come back: its batches must go out even to nobody here. */
  pending(now: number): boolean {
    return now <= this.recoverableUntil;
  }

  /** Limited dashboards that may still come back: their slices go to their own rooms. */
  *awayLimited(now: number): Generator<[socketId: string, user: User]> {
    for (const [id, { user, until }] of this.away) {
      if (now > until) this.away.delete(id);
      else yield [id, user];
    }
  }

  feedsEnded(userName: string): void {
    if (this.windowMs === 0) return;
    const now = this.clock.now();
    this.feedsEndedAt.set(userName, now);
    for (const [name, at] of this.feedsEndedAt) {
      // Twice the window: a margin for clocks that differ between nodes.
      if (now - at > 2 * this.windowMs) this.feedsEndedAt.delete(name);
    }
  }

  limitedViewsChanged(): void {
    this.limitedViewsChangedAt = this.clock.now();
  }

  private mayRecover(data: unknown): boolean {
    const { user, since } = (data ?? {}) as {
      user?: { name?: unknown; grant?: { all?: unknown } };
      since?: unknown;
    };
    if (typeof user?.name !== "string" || typeof since !== "number") return false;
    if ((this.feedsEndedAt.get(user.name) ?? -Infinity) >= since) return false;
    return user.grant?.all === true || this.limitedViewsChangedAt < since;
  }
}
