import { chunkOf } from "../ports.ts";
import type { Db } from "./database.ts";

/**
 * Marks the hours whose fixes changed, inside the transaction that changes them, so a crash can
 * never leave levels stale and unmarked. The hour after is marked too: its first vertex's gap
 * flag depends on the last fix before it. A memory of what is already marked keeps this to one
 * write per device per hour however fast fixes arrive.
 */
export class TrackMarks {
  private readonly marked = new Map<number, Set<number>>();
  private readonly insert;

  constructor(db: Db) {
    this.insert = db.prepare("INSERT OR IGNORE INTO track_dirty (device, chunk) VALUES (?, ?)");
  }

  /** Call inside the transaction that stores the fix. */
  mark(device: number, ts: number): void {
    const chunk = chunkOf(ts);
    let chunks = this.marked.get(device);
    if (chunks?.has(chunk)) return;
    if (!chunks) this.marked.set(device, (chunks = new Set()));
    for (const c of [chunk, chunk + 1]) {
      if (chunks.has(c)) continue;
      this.insert.run(device, c);
      chunks.add(c);
    }
  }

  /** The transaction rolled back: what we remember may not be on disk. */
  forgetAll(): void {
    this.marked.clear();
  }

  /** The hour's mark was cleared (its levels were rebuilt): the next fix in it marks it again. */
  forget(device: number, chunk: number): void {
    this.marked.get(device)?.delete(chunk);
    this.onForget?.(device, chunk);
  }

  /** The device was removed: its key may be given to another. */
  forgetDevice(device: number): void {
    this.marked.delete(device);
    this.onForgetDevice?.(device);
  }

  /**
   * Set when another connection (the storage worker's) stores the fixes: its own TrackMarks must
   * hear of every cleared mark before it stores the next batch.
   */
  onForget: ((device: number, chunk: number) => void) | null = null;
  onForgetDevice: ((device: number) => void) | null = null;
}
