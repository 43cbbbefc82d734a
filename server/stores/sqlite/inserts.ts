import type { Db } from "./database.ts";
import { PACKED_STRIDE, type PackedPositions } from "./packed.ts";
import type { TrackMarks } from "./track-marks.ts";

/**
 * The one place positions are inserted, on whichever connection writes them (the storage
 * worker's, or the main one for an in-memory database and the CLI). Every device key in a batch
 * exists: the main thread's DeviceKeys created it before packing.
 */
export class PositionInserter {
  private readonly insert;

  constructor(
    private readonly db: Db,
    readonly marks: TrackMarks,
  ) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO positions
         (device, ts, lat, lon, speed, course, alt, accuracy, battery, received_at, attributes, flag)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** Store the batch in ONE transaction; per row 1 if stored, 0 if a duplicate. */
  write(batch: PackedPositions): Uint8Array<ArrayBuffer> {
    try {
      return this.db.transaction(() => this.rows(batch))();
    } catch (err) {
      // Rolled back: the hours remembered as marked inside it may not be.
      this.marks.forgetAll();
      throw err;
    }
  }

  private rows(batch: PackedPositions): Uint8Array<ArrayBuffer> {
    const { numbers, length } = batch;
    const flags = new Map(batch.flags);
    const attributes = new Map(batch.attributes);
    const inserted = new Uint8Array(length);
    const orNull = (x: number) => (Number.isNaN(x) ? null : x);
    for (let i = 0, o = 0; i < length; i++, o += PACKED_STRIDE) {
      const device = numbers[o]!;
      const ts = numbers[o + 1]!;
      const flag = flags.get(i) ?? null;
      const result = this.insert.run(
        device,
        ts,
        numbers[o + 2],
        numbers[o + 3],
        orNull(numbers[o + 4]!),
        orNull(numbers[o + 5]!),
        orNull(numbers[o + 6]!),
        orNull(numbers[o + 7]!),
        orNull(numbers[o + 8]!),
        numbers[o + 9],
        attributes.get(i) ?? null,
        flag,
      );
      inserted[i] = result.changes;
      // Implausible fixes are left out of tracks, so they change no level.
      if (result.changes === 1 && flag === null) this.marks.mark(device, ts);
    }
    return inserted;
  }
}
