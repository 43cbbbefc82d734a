import type { ImplausibleReason } from "../../../protocol/index.ts";
import type { NewPosition } from "../ports.ts";

/**
 * New positions as numbers in one transferable buffer, for the storage worker: per row
 * [device key, ts, lat, lon, speed, course, alt, accuracy, battery, receivedAt] (NaN for
 * absent), plus the rare flags and attributes by row index. Posting row objects instead costs the
 * main thread a structured clone of every row; holding them while they wait for their commit
 * costs the garbage collector.
 */
export interface PackedPositions {
  readonly length: number;
  numbers: Float64Array<ArrayBuffer>;
  flags: [row: number, flag: ImplausibleReason][];
  attributes: [row: number, json: string][];
}

export const PACKED_STRIDE = 10;

/** Pack rows whose devices all have keys (`keyOf` answers for every one of them). */
export function packPositions(
  rows: readonly NewPosition[],
  keyOf: (deviceId: string) => number,
): PackedPositions {
  const numbers = new Float64Array(rows.length * PACKED_STRIDE);
  const packed: PackedPositions = { length: rows.length, numbers, flags: [], attributes: [] };
  for (let i = 0, o = 0; i < rows.length; i++, o += PACKED_STRIDE) {
    const { deviceId, position: p, receivedAt, flag } = rows[i]!;
    numbers[o] = keyOf(deviceId);
    numbers[o + 1] = p.ts;
    numbers[o + 2] = p.lat;
    numbers[o + 3] = p.lon;
    numbers[o + 4] = p.speed ?? NaN;
    numbers[o + 5] = p.course ?? NaN;
    numbers[o + 6] = p.alt ?? NaN;
    numbers[o + 7] = p.accuracy ?? NaN;
    numbers[o + 8] = p.battery ?? NaN;
    numbers[o + 9] = receivedAt;
    if (flag !== null) packed.flags.push([i, flag]);
    if (p.attributes !== undefined) packed.attributes.push([i, JSON.stringify(p.attributes)]);
  }
  return packed;
}

/** Several packed batches as one, row indices shifted: one transaction's worth. */
export function concatPacked(batches: readonly PackedPositions[]): PackedPositions {
  if (batches.length === 1) return batches[0]!;
  let length = 0;
  for (const b of batches) length += b.length;
  const numbers = new Float64Array(length * PACKED_STRIDE);
  const joined: PackedPositions = { length, numbers, flags: [], attributes: [] };
  let row = 0;
  for (const b of batches) {
    numbers.set(b.numbers, row * PACKED_STRIDE);
    for (const [i, flag] of b.flags) joined.flags.push([row + i, flag]);
    for (const [i, json] of b.attributes) joined.attributes.push([row + i, json]);
    row += b.length;
  }
  return joined;
}
