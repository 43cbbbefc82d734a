import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { TrackStore } from "../store/track-store.ts";
import type { GapRule } from "./gaps.ts";
import { CHUNK_MS, chunkOf, LEVEL_TOLERANCES_M } from "./levels.ts";

export interface LevelBuilderOptions {
  /** An hour is summarised once it ended this long ago, so late stragglers usually make it in. */
  settleMs: number;
  /** Longest stretch of work per turn of the event loop (ms). */
  sliceMs: number;
  /** Pause after a slice while work remains (ms): caps the builder's share of the main thread. */
  pauseMs: number;
  /** Poll interval when nothing is due (ms). */
  idleMs: number;
  /**
   * Runs each slice of work at a moment when it cannot collide with the storage writer
   * (GroupCommitter.runExclusive); by default at once.
   */
  exclusive: (work: () => void) => void;
}

export const LEVEL_BUILDER_DEFAULTS: LevelBuilderOptions = {
  settleMs: 60_000,
  sliceMs: 10,
  pauseMs: 20,
  idleMs: 1000,
  exclusive: (work) => work(),
};

/**
 * Keeps the summary levels up to date behind ingest: hours whose fixes changed are marked in the
 * same transaction as the fixes (TrackMarks); this rebuilds them in short slices on the main
 * thread, with a pause after each, so ingest and queries keep the event loop. Queries never wait
 * for it: they read raw fixes for hours still marked.
 */
export class LevelBuilder {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Hours rebuilt and raw fixes read since start, for tests and logs. */
  readonly stats = { chunks: 0, fixes: 0 };
  private readonly options: LevelBuilderOptions;

  constructor(
    private readonly store: TrackStore,
    private readonly rule: GapRule,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: Partial<LevelBuilderOptions> = {},
  ) {
    this.options = { ...LEVEL_BUILDER_DEFAULTS, ...options };
  }

  /** What levels depend on (v: how they are simplified); a change rebuilds them all. */
  static parameters(rule: GapRule): string {
    return JSON.stringify({ v: 2, chunkMs: CHUNK_MS, levels: LEVEL_TOLERANCES_M, ...rule });
  }

  start(): void {
    if (this.store.resetIfChanged(LevelBuilder.parameters(this.rule))) {
      this.logger.info("track rules changed: rebuilding every track level in the background");
    }
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves once nothing is due (every settled hour summarised). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (!this.stopped) this.schedule(0);
    });
  }

  /** Hours due for rebuilding now. */
  pending(): number {
    return this.store.pending(this.lastDueChunk());
  }

  /** Rebuild everything due, synchronously (bulk loads, tests); returns hours rebuilt. */
  drain(): number {
    let built = 0;
    for (;;) {
      const n = this.work(Infinity);
      if (n === 0) return built;
      built += n;
    }
  }

  private lastDueChunk(): number {
    return chunkOf(this.clock.now() - this.options.settleMs) - 1;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.turn(), ms);
  }

  private turn(): void {
    this.timer = null;
    this.options.exclusive(() => {
      if (this.stopped) return;
      let built = 0;
      try {
        built = this.work(this.options.sliceMs);
      } catch (err) {
        this.logger.error({ err }, "building track levels failed");
      }
      if (built > 0) return this.schedule(this.options.pauseMs);
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      this.schedule(this.options.idleMs);
    });
  }

  /** Rebuild due hours for up to `budgetMs`; returns how many. */
  private work(budgetMs: number): number {
    const deadline = performance.now() + budgetMs;
    let built = 0;
    while (performance.now() < deadline) {
      const due = this.store.due(this.lastDueChunk(), 32);
      if (due.length === 0) break;
      for (const [device, chunk] of due) {
        this.stats.fixes += this.store.rebuild(device, chunk, this.rule);
        this.stats.chunks++;
        built++;
        if (performance.now() >= deadline) break;
      }
    }
    return built;
  }
}
