import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./database.ts";
import { PositionStore, type PackedPositions } from "./position-store.ts";

/** The storage worker's side of WorkerWriter: one connection, one transaction per request. */

export interface WriterData {
  file: string;
  durability: "normal" | "full";
}

export type WriteRequest =
  { id: number; batch: PackedPositions; forget: number[]; close?: never } | { close: true };

export type WriteReply =
  | { id: number; inserted: Uint8Array<ArrayBuffer>; newDevices: [string, number][] }
  | { id: number; error: string };

if (parentPort) {
  const port = parentPort;
  const { file, durability } = workerData as WriterData;
  const db = openDatabase(file, durability);
  const store = new PositionStore(db);
  port.on("message", (request: WriteRequest) => {
    if (request.close) {
      db.close();
      port.close();
      return;
    }
    const { id, batch, forget } = request;
    for (let i = 0; i < forget.length; i += 2) store.trackMarks.forget(forget[i]!, forget[i + 1]!);
    let reply: WriteReply;
    try {
      const { inserted, newDevices } = store.insertPacked(batch);
      reply = { id, inserted, newDevices };
    } catch (err) {
      reply = { id, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply, "inserted" in reply ? [reply.inserted.buffer] : []);
  });
}
