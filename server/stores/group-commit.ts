import type { Logger } from "../logger.ts";
import { StoreClosedError, type CommitObserver } from "./ports.ts";

/** Where a group commit is written: one transaction for all the batches, in order. */
export interface BatchWriter<B> {
  /** Per row of the concatenated batches: 1 if stored, 0 if a duplicate. */
  write(batches: readonly B[]): Promise<ArrayLike<number>>;
  /** Finish the writes under way, then let go of the database. */
  close(): Promise<void>;
}

interface Waiter {
  start: number;
  count: number;
  resolve: (inserted: boolean[]) => void;
  reject: (err: Error) => void;
}

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
 * committed, which is what makes an ack mean "on disk". Large transactions are where databases
 * are fastest: with many devices interleaved, a small one dirties about one page per row.
 *
 * One transaction is written at a time, by the writer (another thread, or another process),
 * while this thread goes on reading, validating and queueing the next.
 *
 * The wait is enforced from both sides: by a timer when traffic is light, and by the next
 * submission once the oldest row is overdue, because a process saturated with socket reads can
 * go seconds without running timers (see LiveHub).
 */
export class GroupCommitter<B extends { readonly length: number }> {
  private queue: B[] = [];
  private queuedRows = 0;
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
  /** Rows ever submitted, and rows whose transaction has ended (committed or failed). */
  private submitted = 0;
  private settled = 0;
  private lastBatchRows = 0;
  private drainWaiters: { until: number; resolve: () => void }[] = [];
  /** Transactions committed and rows offered to them, for /api/health and the tests. */
  readonly stats = { commits: 0, rows: 0 };
  /** Why the last transaction failed, or null once one commits: the store's health. */
  failure: Error | null = null;
  /** Told the size and duration of each transaction (metrics). */
  observer: CommitObserver | null = null;

  constructor(
    private readonly writer: BatchWriter<B>,
    private readonly options: { delayMs: number; maxRows: number },
    private readonly logger: Logger,
  ) {}

  /** Resolves with, per row, true if stored now or false if it was already stored (duplicate). */
  submit(batch: B): Promise<boolean[]> {
    if (this.closed) return Promise.reject(new StoreClosedError("the store is closing"));
    return new Promise((resolve, reject) => {
      if (this.queuedRows === 0) this.oldestAt = performance.now();
      this.waiters.push({ start: this.queuedRows, count: batch.length, resolve, reject });
      this.queue.push(batch);
      this.queuedRows += batch.length;
      this.submitted += batch.length;
      this.commitIfDue();
    });
  }

  get queued(): number {
    return this.queuedRows;
  }

  /**
   * Run `work` when no transaction is being written: at once if none is, else as soon as the
   * current one ends and before the next begins. For other writes to the same database, which
   * then never wait on the writer's lock, and for work that must see every stored row.
   */
  runExclusive<T>(work: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const run = () => {
        try {
          resolve(work());
        } catch (err) {
          reject(err as Error);
        }
      };
      if (this.writing) this.exclusive.push(run);
      else run();
    });
  }

  /**
   * Resolves once everything submitted before this call has been written (committed or failed),
   * without waiting for what others submit meanwhile.
   */
  drain(): Promise<void> {
    if (this.settled >= this.submitted) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push({ until: this.submitted, resolve });
      this.flush();
    });
  }

  /** Commit the queue now if its oldest row has waited long enough or it is full. */
  private commitIfDue(): void {
    if (this.writing || this.queuedRows === 0) return;
    const waited = performance.now() - this.oldestAt;
    const wait = Math.max(this.options.delayMs, Math.min(MAX_WAIT_MS, this.lastCommitMs));
    if (waited >= wait || this.queuedRows >= this.options.maxRows) {
      this.flush();
    } else {
      this.timer ??= setTimeout(() => this.flush(), wait - waited);
    }
  }

  /** Start writing everything queued, unless a write is under way (its end starts the next). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing || this.queuedRows === 0) return;
    const batches = this.queue;
    const waiters = this.waiters;
    const rows = this.queuedRows;
    this.queue = [];
    this.waiters = [];
    this.queuedRows = 0;
    this.lastBatchRows = rows;
    const started = performance.now();
    this.writing = this.writer.write(batches).then(
      (inserted) => {
        this.lastCommitMs = performance.now() - started;
        this.stats.commits++;
        this.stats.rows += rows;
        this.failure = null;
        this.observer?.committed(rows, this.lastCommitMs);
        for (const w of waiters) {
          const flags = new Array<boolean>(w.count);
          for (let i = 0; i < w.count; i++) flags[i] = inserted[w.start + i] === 1;
          w.resolve(flags);
        }
        this.written();
      },
      (err: unknown) => {
        this.logger.error({ err, rows }, "group commit failed");
        this.failure = err instanceof Error ? err : new Error(String(err));
        this.observer?.failed(rows, performance.now() - started);
        const error = new Error("storage failed");
        for (const w of waiters) w.reject(error);
        this.written();
      },
    );
  }

  private written(): void {
    this.writing = null;
    this.settled += this.lastBatchRows;
    if (this.drainWaiters.length > 0) {
      const still = this.drainWaiters.filter((w) => w.until > this.settled);
      for (const w of this.drainWaiters) if (w.until <= this.settled) w.resolve();
      this.drainWaiters = still;
    }
    for (const work of this.exclusive.splice(0)) work();
    if (this.closed) this.flush();
    else this.commitIfDue();
  }

  /** Refuse new rows, then commit what is queued so those reports are still acknowledged. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
    await this.writer.close();
  }
}
