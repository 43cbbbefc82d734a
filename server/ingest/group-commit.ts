import type { Logger } from "../logger.ts";
import type { NewPosition } from "../store/position-store.ts";
import type { PositionWriter } from "../store/position-writer.ts";

interface Waiter {
  start: number;
  count: number;
  resolve: (inserted: boolean[]) => void;
  reject: (err: Error) => void;
}

export class ShuttingDownError extends Error {}

/**
 * Under load, a transaction waits as long as the previous one took (measured from this thread,
 * so including the wait to hear back from the writer): it then holds about twice what arrived
 * during one commit, which halves the pages rewritten per row. Capped so that one slow commit (a
 * WAL checkpoint) cannot stretch acks. At 80k positions/s: 12 transactions/s of ~7,000 rows.
 */
const MAX_WAIT_MS = 25;

/**
 * Group commit: reports from all devices are queued and written in one transaction, once the
 * oldest queued row has waited long enough (`delayMs`, more under load) or as soon as `maxRows`
 * are waiting. Each report's promise settles only after the transaction holding its rows has
 * committed, which is what makes an ack mean "on disk". Large transactions are where SQLite is
 * fastest: with many devices interleaved, a small one dirties about one page per row.
 *
 * One transaction is written at a time, on the writer's thread, while this thread goes on
 * reading, validating and queueing the next.
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
  /** The transaction being written, if any. */
  private writing: Promise<void> | null = null;
  /** How long the previous transaction took, ms. */
  private lastCommitMs = 0;
  /** Work that must not overlap a write (see runExclusive). */
  private exclusive: (() => void)[] = [];
  private closed = false;
  /** Transactions committed and rows offered to them, for /api/health and the tests. */
  readonly stats = { commits: 0, rows: 0 };

  constructor(
    private readonly writer: PositionWriter,
    private readonly options: { delayMs: number; maxRows: number },
    private readonly logger: Logger,
  ) {}

  /** Resolves with, per row, true if stored now or false if it was already stored (duplicate). */
  submit(rows: NewPosition[]): Promise<boolean[]> {
    if (this.closed) return Promise.reject(new ShuttingDownError("server is shutting down"));
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) this.oldestAt = performance.now();
      this.waiters.push({ start: this.queue.length, count: rows.length, resolve, reject });
      for (const row of rows) this.queue.push(row);
      this.commitIfDue();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Run `work` (synchronous) when no transaction is being written: at once if none is, else as
   * soon as the current one ends and before the next begins. For other writes to the same
   * database that must see every stored fix and must not wait on the writer's lock.
   */
  runExclusive(work: () => void): void {
    if (this.writing) this.exclusive.push(work);
    else work();
  }

  /** Commit the queue now if its oldest row has waited long enough or it is full. */
  private commitIfDue(): void {
    if (this.writing || this.queue.length === 0) return;
    const waited = performance.now() - this.oldestAt;
    const wait = Math.max(this.options.delayMs, Math.min(MAX_WAIT_MS, this.lastCommitMs));
    if (waited >= wait || this.queue.length >= this.options.maxRows) {
      this.flush();
    } else {
      this.timer ??= setTimeout(() => this.flush(), wait - waited);
    }
  }

  /** Start writing everything queued, unless a write is under way (its end starts the next). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing || this.queue.length === 0) return;
    const rows = this.queue;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    const started = performance.now();
    this.writing = this.writer.write(rows).then(
      (inserted) => {
        this.lastCommitMs = performance.now() - started;
        this.stats.commits++;
        this.stats.rows += rows.length;
        for (const w of waiters) w.resolve(inserted.slice(w.start, w.start + w.count));
        this.written();
      },
      (err: unknown) => {
        this.logger.error({ err, rows: rows.length }, "group commit failed");
        const error = new Error("storage failed");
        for (const w of waiters) w.reject(error);
        this.written();
      },
    );
  }

  private written(): void {
    this.writing = null;
    for (const work of this.exclusive.splice(0)) {
      try {
        work();
      } catch (err) {
        this.logger.error({ err }, "work between commits failed");
      }
    }
    if (this.closed) this.flush();
    else this.commitIfDue();
  }

  /** Refuse new rows, then commit what is queued so those reports are still acknowledged. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.writing) await this.writing;
    await this.writer.close();
  }
}
