import type { Logger } from "../logger.ts";
import type { NewPosition, PositionStore } from "../store/position-store.ts";

interface Waiter {
  start: number;
  count: number;
  resolve: (inserted: boolean[]) => void;
  reject: (err: Error) => void;
}

export class ShuttingDownError extends Error {}

/**
 * Group commit: reports from all devices are queued and written in one transaction, either when
 * `delayMs` has passed since the first queued row or as soon as `maxRows` are waiting. Each report's
 * promise settles only after the transaction holding its rows has committed, which is what makes an
 * ack mean "on disk". Under load batches grow by themselves, which is where SQLite is fastest.
 */
export class GroupCommitter {
  private queue: NewPosition[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
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
      this.waiters.push({ start: this.queue.length, count: rows.length, resolve, reject });
      for (const row of rows) this.queue.push(row);
      if (this.queue.length >= this.options.maxRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.delayMs);
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
    try {
      inserted = this.store.insertBatch(rows);
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
