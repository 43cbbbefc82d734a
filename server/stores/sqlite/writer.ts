import type { Worker } from "node:worker_threads";
import type { Logger } from "../../logger.ts";
import type { BatchWriter } from "../group-commit.ts";
import type { PositionInserter } from "./inserts.ts";
import { concatPacked, type PackedPositions } from "./packed.ts";
import type { TrackMarks } from "./track-marks.ts";
import { startStoreWorker } from "./worker-thread.ts";
import type { WriteReply, WriteRequest, WriterData } from "./writer-worker.ts";

export type PositionWriter = BatchWriter<PackedPositions>;

/** Writes on the calling thread: for an in-memory database, which no other thread can open. */
export function inlineWriter(inserter: PositionInserter): PositionWriter {
  return {
    write: async (batches) => inserter.write(concatPacked(batches)),
    close: async () => {},
  };
}

const MAX_FAILED_STARTS = 3;

interface Pending {
  resolve: (inserted: Uint8Array) => void;
  reject: (err: Error) => void;
}

/**
 * Writes on a worker thread with its own connection to the same SQLite file, so the main thread
 * keeps reading sockets, validating and broadcasting while a transaction commits: at full ingest
 * the inserts and commits were a third of the main thread's time.
 *
 * Batches carry device keys the main thread resolved (it alone creates devices), so the worker
 * knows nothing of device ids. What the two connections share is kept in step by messages: every
 * track mark the main thread clears (the level builder rebuilt that hour) travels to the worker
 * ahead of the next batch, so the worker marks the hour again when a fix lands in it. The level
 * builder runs only while no batch is being written (GroupCommitter.runExclusive), which keeps
 * that order exact.
 */
export class WorkerWriter implements PositionWriter {
  private worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Cleared track marks not yet sent to the worker: device, chunk, device, chunk, … */
  private forgotten: number[] = [];
  /** Removed devices whose marks the worker must forget. */
  private forgottenDevices: number[] = [];
  /** Set once close() is called: resolves when the worker has closed its connection and exited. */
  private closed: Promise<void> | null = null;
  /** Workers that stopped in a row without storing anything: a broken database, not bad luck. */
  private failedStarts = 0;
  private broken: Error | null = null;

  constructor(
    private readonly data: WriterData,
    marks: TrackMarks,
    private readonly logger: Logger,
  ) {
    marks.onForget = (device, chunk) => this.forgotten.push(device, chunk);
    marks.onForgetDevice = (device) => this.forgottenDevices.push(device);
    this.worker = this.spawn();
  }

  write(batches: readonly PackedPositions[]): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error("storage is closing"));
    if (this.broken) return Promise.reject(this.broken);
    const batch = concatPacked(batches);
    const request: WriteRequest = {
      id: this.nextId++,
      batch,
      forget: this.forgotten,
      forgetDevices: this.forgottenDevices,
    };
    this.forgotten = [];
    this.forgottenDevices = [];
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request, [batch.numbers.buffer]);
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      const worker = this.worker;
      this.closed = new Promise((resolve) => worker.once("exit", () => resolve()));
      // Requests are handled in order, so this arrives after every write under way.
      worker.postMessage({ close: true } satisfies WriteRequest);
    }
    return this.closed;
  }

  private spawn(): Worker {
    const worker = startStoreWorker(new URL("./writer-worker.ts", import.meta.url), this.data);
    worker.on("message", (reply: WriteReply) => this.settle(reply));
    worker.on("error", (err) => this.logger.error({ err }, "storage worker failed"));
    worker.on("exit", (code) => {
      if (this.closed) return;
      // Nothing it had not stored is lost: those reports are refused and devices resend them.
      const err = new Error(`storage worker stopped (exit code ${code})`);
      this.failAll(err);
      if (++this.failedStarts >= MAX_FAILED_STARTS) {
        this.broken = err;
        this.logger.fatal({ code }, "storage worker keeps stopping; refusing reports");
        return;
      }
      this.logger.error({ code }, "storage worker stopped; starting another");
      this.worker = this.spawn();
    });
    return worker;
  }

  private settle(reply: WriteReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if ("error" in reply) return waiting.reject(new Error(reply.error));
    this.failedStarts = 0;
    waiting.resolve(reply.inserted);
  }

  private failAll(err: Error): void {
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
  }

  /** Why writes fail for good, or null. */
  get failure(): Error | null {
    return this.broken;
  }
}
