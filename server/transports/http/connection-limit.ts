import type { IncomingMessage } from "node:http";

/**
 * Caps socket.io connections per client address, so one host cannot exhaust the server's memory
 * (each connection costs ~20–30 KB). Counted when engine.io accepts a connection, released when
 * it closes; checked at the handshake, before anything is allocated for the newcomer.
 */
export class ConnectionLimit {
  private readonly open = new Map<string, number>();

  constructor(private readonly perAddress: number) {}

  /** True when this request may open one more connection (0 = unlimited). */
  admits(req: IncomingMessage): boolean {
    if (this.perAddress === 0) return true;
    return (this.open.get(address(req)) ?? 0) < this.perAddress;
  }

  /** Count an accepted connection; returns the function that releases it. */
  track(req: IncomingMessage): () => void {
    const key = address(req);
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    return () => {
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }
}

function address(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}
