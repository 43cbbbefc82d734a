import type { Worker } from "node:worker_threads";
import type { Logger } from "../../logger.ts";
import type { CheckpointerData } from "./checkpoint-worker.ts";
import { startStoreWorker } from "./worker-thread.ts";

/**
 * Copies the WAL into the database file on a thread of its own, so that checkpoints leave the
 * commit path. Left to SQLite, the connection whose commit crosses wal_autocheckpoint runs the
 * checkpoint inside that commit: at 20,000 devices that was one commit of ~150–220 ms every few
 * seconds, and every report queued behind it waited as long for its ack (the latency bench's p99).
 * A PASSIVE checkpoint on another connection runs alongside commits; when the storage worker's own
 * autocheckpoint does come due, the pages are already copied and it only resets the WAL.
 *
 * If this thread dies, only that latency comes back: the writer's autocheckpoint still bounds the
 * WAL, so it is logged, not restarted.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | null = null;

  constructor(data: CheckpointerData, logger: Logger) {
    this.worker = startStoreWorker(new URL("./checkpoint-worker.ts", import.meta.url), data);
    this.worker.on("message", (m: { error: string }) =>
      logger.warn({ reason: m.error }, "background checkpoint failed"),
    );
    this.worker.on("error", (err) => logger.error({ err }, "checkpoint thread failed"));
    this.worker.unref();
  }

  close(): Promise<void> {
    if (!this.closed) {
      const worker = this.worker;
      this.closed = new Promise((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage("close");
    }
    return this.closed;
  }
}
