import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./database.ts";

/** The background checkpointer's side (see Checkpointer): its own connection, a timer. */

export interface CheckpointerData {
  file: string;
  durability: "normal" | "full";
  intervalMs: number;
}

if (parentPort) {
  const port = parentPort;
  const { file, durability, intervalMs } = workerData as CheckpointerData;
  const db = openDatabase(file, { durability, migrate: false });
  const timer = setInterval(() => {
    try {
      // PASSIVE takes no lock that writers need: the storage worker keeps committing meanwhile.
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch (err) {
      port.postMessage({ error: err instanceof Error ? err.message : String(err) });
    }
  }, intervalMs);
  port.on("message", () => {
    clearInterval(timer);
    db.close();
    port.close();
  });
}
