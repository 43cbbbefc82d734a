import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { CHUNK_MS, chunkOf, type ChunkLevelBuilder, type TrackStore } from "../stores/ports.ts";
import type { GapRule } from "./gaps.ts";
import { buildChunkLevels, LEVEL_COUNT, LEVEL_TOLERANCES_M } from "./levels.ts";

export interface LevelBuilderOptions {
  /** An hour is summarised once it ended this long ago, so late stragglers usually make it in. */
  settleMs: number;
  /** Longest stretch of work per turn of the event loop (ms). */
  sliceMs: number;
  /** Pause after a slice while work remains (ms): caps the builder's share of the main thread. */
  pauseMs: number;
  /** Poll interval when nothing is due (ms). */
  idleMs: number;
  /** False while another process builds the levels of the same database (a cluster). */
  leads: () => boolean;
}

export const LEVEL_BUILDER_DEFAULTS: LevelBuilderOptions = {
  settleMs: 60_000,
  sliceMs: 10,
  pauseMs: 20,
  idleMs: 1000,
  leads: () => true,
};

/**
 * Keeps the summary levels up to date behind ingest: hours whose fixes changed are marked in the
 * same transaction as the fixes; this rebuilds them in short slices, with a pause after each, so
 * ingest and queries keep the event loop. Queries never wait for it: they read raw fixes for
 * hours still marked. The store does the writing; the rule of what a level is comes from here.
 */
export class LevelBuilder {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** A turn is under way: its end schedules the next, so a wake-up must not start another. */
  private turning = false;
  private idleWaiters: (() => void)[] = [];
  /** Hours rebuilt and raw fixes read since start, for tests and logs. */
  readonly stats = { chunks: 0, fixes: 0 };
  private readonly options: LevelBuilderOptions;
  private readonly build: ChunkLevelBuilder;

  constructor(
    private readonly store: TrackStore,
    private readonly rule: GapRule,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: Partial<LevelBuilderOptions> = {},
  ) {
    this.options = { ...LEVEL_BUILDER_DEFAULTS, ...options };
    this.build = (raw, previous) => buildChunkLevels(rule, raw, previous);
  }

  /** What levels depend on (v: how they are simplified); a change rebuilds them all. */
  static parameters(rule: GapRule): string {
    return JSON.stringify({ v: 2, chunkMs: CHUNK_MS, levels: LEVEL_TOLERANCES_M, ...rule });
  }

  async start(): Promise<void> {
    if (await this.store.resetIfChanged(LevelBuilder.parameters(this.rule))) {
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
      if (!this.stopped && !this.turning) this.schedule(0);
    });
  }

  /** Hours due for rebuilding now. */
  pending(): Promise<number> {
    return this.store.pending(this.lastDueChunk());
  }

  /** Rebuild everything due, in one go (bulk loads, tests); resolves with the hours rebuilt. */
  async drain(): Promise<number> {
    let built = 0;
    for (;;) {
      const n = await this.work(Infinity);
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
    this.timer = setTimeout(() => void this.turn(), ms);
  }

  private async turn(): Promise<void> {
    this.timer = null;
    this.turning = true;
    let built = 0;
    try {
      built = await this.work(this.options.sliceMs);
    } catch (err) {
      this.logger.error({ err }, "building track levels failed");
    }
    this.turning = false;
    if (this.stopped) return;
    if (built > 0) return this.schedule(this.options.pauseMs);
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.schedule(this.options.idleMs);
  }

  /** Rebuild due hours for up to `budgetMs`; resolves with how many. */
  private async work(budgetMs: number): Promise<number> {
    if (!this.options.leads()) return 0;
    const due = await this.store.due(this.lastDueChunk(), 32);
    if (due.length === 0) return 0;
    const done = await this.store.rebuild(due, this.build, LEVEL_COUNT, budgetMs);
    this.stats.chunks += done.hours;
    this.stats.fixes += done.fixes;
    return done.hours;
  }
}
