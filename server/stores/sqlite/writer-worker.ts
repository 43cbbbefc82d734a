import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./database.ts";
import { PositionInserter } from "./inserts.ts";
import type { PackedPositions } from "./packed.ts";
import { TrackMarks } from "./track-marks.ts";

/** The storage worker's side of WorkerWriter: one connection, one transaction per request. */

export interface WriterData {
  file: string;
  durability: "normal" | "full";
}

export type WriteRequest =
  | {
      id: number;
      batch: PackedPositions;
      forget: number[];
      forgetDevices: number[];
      close?: never;
    }
  | { close: true };

export type WriteReply =
  { id: number; inserted: Uint8Array<ArrayBuffer> } | { id: number; error: string };

if (parentPort) {
  const port = parentPort;
  const { file, durability } = workerData as WriterData;
  // The main thread has already brought the schema up to date before starting this worker.
  const db = openDatabase(file, { durability, migrate: false });
  const marks = new TrackMarks(db);
  const inserter = new PositionInserter(db, marks);
  port.on("message", (request: WriteRequest) => {
    if (request.close) {
      db.close();
      port.close();
      return;
    }
    const { id, batch, forget, forgetDevices } = request;
    for (const device of forgetDevices) marks.forgetDevice(device);
    for (let i = 0; i < forget.length; i += 2) marks.forget(forget[i]!, forget[i + 1]!);
    let reply: WriteReply;
    try {
      reply = { id, inserted: inserter.write(batch) };
    } catch (err) {
      reply = { id, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply, "inserted" in reply ? [reply.inserted.buffer] : []);
  });
}
