import type { Logger } from "../logger.ts";
import type { NewPosition, PositionStore } from "../store/position-store.ts";

interface Waiter {
  start: number;
  count: number;
  resolve: (inserted: boolean[]) => void;
  reject: (err: Error) => void;
}

export class ShuttingDownError extends Error {}

/** Wait at least this many times the previous commit's duration: commits take ≤ 1/4 of the time. */
const COMMIT_SHARE_INVERSE = 3;
/** ...but never longer than this, so one slow commit (a WAL checkpoint) cannot stretch acks. */
const MAX_WAIT_MS = 25;

/**
 * Group commit: reports from all devices are queued and written in one transaction, either when
 * `delayMs` has passed since the first queued row or as soon as `maxRows` are waiting. Each report's
 * promise settles only after the transaction holding its rows has committed, which is what makes an
 * ack mean "on disk". Under load batches grow by themselves, which is where SQLite is fastest.
 *
 * The wait grows with the cost of the previous commit (at most a quarter of the time goes to
 * committing), so under load transactions get larger, which is where SQLite is fastest: with many
 * devices interleaved, a small transaction dirties about one page per row.
 *
 * The wait is enforced from both sides: by a timer when traffic is light, and by the next
 * submission once the oldest row is overdue, because a process saturated with socket reads can
 * go seconds without running timers (see LiveHub).
 */
export class GroupCommitter {
  private queue: NewPosition[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** performance.now() when the oldest queued row arrived. */
  private oldestAt = 0;
  /** How long the previous transaction took, ms. */
  private lastCommitMs = 0;
  private closed = false;
  /** Transactions committed and rows offered to them, for /api/health and the tests. */
  readonly stats = { commits: 0, rows: 0 };

  constructor(
    private readonly store: PositionStore,
    private readonly options: { delayMs: number; maxRows: number },
    private readonly logger: Logger,
  ) {}

  /** Resolves with, per row, true if stored now or false if it was already stored (duplicate). */
  submit(rows: NewPosition[]): Promise<boolean[]> {
    if (this.closed) return Promise.reject(new ShuttingDownError("server is shutting down"));
    return new Promise((resolve, reject) => {
      const now = performance.now();
      if (this.queue.length === 0) this.oldestAt = now;
      this.waiters.push({ start: this.queue.length, count: rows.length, resolve, reject });
      for (const row of rows) this.queue.push(row);
      const wait = Math.max(
        this.options.delayMs,
        Math.min(MAX_WAIT_MS, COMMIT_SHARE_INVERSE * this.lastCommitMs),
      );
      if (now - this.oldestAt >= wait || this.queue.length >= this.options.maxRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), wait);
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Commit everything queued now. Safe to call at any time; a no-op when the queue is empty. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const rows = this.queue;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    let inserted: boolean[];
    const started = performance.now();
    try {
      inserted = this.store.insertBatch(rows);
      this.lastCommitMs = performance.now() - started;
    } catch (err) {
      this.logger.error({ err, rows: rows.length }, "group commit failed");
      const error = new Error("storage failed");
      for (const w of waiters) w.reject(error);
      return;
    }
    this.stats.commits++;
    this.stats.rows += rows.length;
    for (const w of waiters) w.resolve(inserted.slice(w.start, w.start + w.count));
  }

  /** Refuse new rows, then commit what is queued so those reports are still acknowledged. */
  close(): void {
    this.closed = true;
    this.flush();
  }
}
