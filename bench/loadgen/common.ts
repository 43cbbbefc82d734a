import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import type { Socket } from "socket.io-client";

/**
 * Latencies in 1 ms buckets up to 60 s, so millions of samples cost a fixed 240 KB and
 * load generators in several processes can be merged exactly (sparse [ms, count] pairs).
 */
export class Histogram {
  private readonly buckets = new Uint32Array(60_001);
  count = 0;
  max = 0;

  add(ms: number): void {
    const v = Math.max(0, Math.round(ms));
    this.buckets[Math.min(v, 60_000)]!++;
    this.count++;
    if (v > this.max) this.max = v;
  }

  toJSON(): { pairs: [number, number][]; max: number } {
    const pairs: [number, number][] = [];
    this.buckets.forEach((n, ms) => n > 0 && pairs.push([ms, n]));
    return { pairs, max: this.max };
  }

  static merge(parts: { pairs: [number, number][]; max: number }[]): Histogram {
    const h = new Histogram();
    for (const part of parts) {
      for (const [ms, n] of part.pairs) h.buckets[ms]! += n;
      for (const [, n] of part.pairs) h.count += n;
      h.max = Math.max(h.max, part.max);
    }
    return h;
  }

  percentile(p: number): number {
    const rank = Math.ceil(this.count * p);
    let seen = 0;
    for (let ms = 0; ms < this.buckets.length; ms++) {
      seen += this.buckets[ms]!;
      if (seen >= rank && seen > 0) return ms;
    }
    return this.max;
  }

  summary(): string {
    if (this.count === 0) return "no samples";
    const p = (q: number) => this.percentile(q);
    return `${p(0.5)} / ${p(0.95)} / ${p(0.99)} / ${this.max}`;
  }
}

/**
 * Open `count` sockets with at most `concurrency` handshakes in flight: firing 10,000 at once
 * overflows the listen backlog and turns into SYN retransmits (1 s, 3 s, …), which measures the
 * kernel, not the server. Sockets keep socket.io's own reconnection; failed attempts are counted,
 * and a socket the server refused (middleware error: socket.io will not retry) is given up on.
 */
export async function connectAll<S extends Socket>(
  count: number,
  concurrency: number,
  open: (i: number) => S,
  timeoutMs = 180_000,
): Promise<{ sockets: S[]; connectErrors: number; startedAt: number; endedAt: number }> {
  const sockets: S[] = [];
  let connectErrors = 0;
  let refused = 0;
  let next = 0;
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  const worker = async () => {
    while (next < count && Date.now() < deadline) {
      const socket = open(next++);
      sockets.push(socket);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        socket.once("connect", done);
        socket.on("connect_error", (err) => {
          connectErrors++;
          if (!socket.active) {
            if (++refused === 1) console.error(`connect refused: ${err.message}`);
            done();
          }
        });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { sockets, connectErrors, startedAt, endedAt: Date.now() };
}

/** Wait for the scenario's `go <epoch ms>` line: every process times its window from that. */
export function waitForGo(): Promise<number> {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) =>
    lines.on("line", (line) => {
      const [word, at] = line.trim().split(" ");
      if (word === "go") resolve(Number(at) || Date.now());
    }),
  );
}

/**
 * This process's own event-loop delay: when it is high the load generator, not the server, is
 * adding latency, and the figures must say so.
 */
export function loopDelay(): { p99Ms: () => number; maxMs: () => number } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    p99Ms: () => Math.round(h.percentile(99) / 1e6),
    maxMs: () => Math.round(h.max / 1e6),
  };
}

export const sleepUntil = (epochMs: number) =>
  new Promise((r) => setTimeout(r, Math.max(0, epochMs - Date.now())));
