import { ImportError, type ReadPoint } from "../../../formats/read-point.ts";
import { positionSchema, type ImportReply } from "../../../protocol/index.ts";
import { describeIssue } from "../../../protocol/validate.ts";
import { PlausibilityCheck, type PlausibilityRules } from "../../ingest/plausibility.ts";
import type { NewPosition } from "../../store/position-store.ts";

/** Stores rows, answering per row whether it was new (false: a duplicate of a stored fix). */
export type PositionSink = (rows: NewPosition[]) => Promise<boolean[]> | boolean[];

export interface ImportOptions extends PlausibilityRules {
  deviceId: string;
  /** Server clock at import: stamped on each row as when it was received. */
  now: number;
  maxFutureMs: number;
  sink: PositionSink;
  /** Rows per transaction. */
  batchSize?: number;
}

const MAX_REPORTED_ERRORS = 20;

/**
 * Validate and store points read from a file, in batches, with the rules a live report gets:
 * the position schema, the future-time limit, and plausibility flags (judged along the file
 * itself, not against the device's live position). Duplicates are told apart by the store's
 * (device, ts) key, so importing the same file twice stores nothing the second time.
 *
 * A reader's ImportError stops the import; batches committed before it stay stored, which is
 * safe because importing the repaired file again skips them as duplicates.
 */
export async function importPoints(
  batches: AsyncIterable<ReadPoint[]>,
  options: ImportOptions,
): Promise<ImportReply> {
  const { deviceId, now, maxFutureMs, sink, batchSize = 2_000 } = options;
  const plausibility = new PlausibilityCheck(options);
  const reply: ImportReply = { deviceId, accepted: 0, duplicates: 0, rejected: 0, errors: [] };
  const reject = (at: string, message: string) => {
    reply.rejected++;
    if (reply.errors.length < MAX_REPORTED_ERRORS) reply.errors.push({ at, message });
  };
  let rows: NewPosition[] = [];
  const commit = async () => {
    const batch = rows;
    rows = [];
    if (batch.length === 0) return;
    const inserted = await sink(batch);
    for (const isNew of inserted) {
      if (isNew) reply.accepted++;
      else reply.duplicates++;
    }
  };

  try {
    for await (const points of batches) {
      accept(points);
      if (rows.length >= batchSize) await commit();
    }
  } catch (err) {
    if (!(err instanceof ImportError)) throw err;
    await commit();
    throw stoppedAt(err, reply.accepted + reply.duplicates);
  }
  await commit();
  return reply;

  function accept(points: ReadPoint[]): void {
    for (const { at, fields, error } of points) {
      if (error !== undefined) {
        reject(at, error);
        continue;
      }
      const parsed = positionSchema.safeParse(fields, { reportInput: true });
      if (!parsed.success) {
        const { field, message } = describeIssue(parsed.error.issues[0]);
        reject(at, `${field} ${message}`);
        continue;
      }
      const position = parsed.data;
      if (position.ts > now + maxFutureMs) {
        reject(at, `ts must not be more than ${maxFutureMs / 1000} s ahead of the server clock`);
        continue;
      }
      rows.push({
        deviceId,
        position,
        receivedAt: now,
        flag: plausibility.check(deviceId, position),
      });
    }
  }
}

/**
 * An ImportError saying where reading stopped and what is already stored, so the person knows a
 * repaired file can simply be imported again.
 */
function stoppedAt(err: ImportError, stored: number): ImportError {
  return new ImportError(
    stored === 0
      ? err.message
      : `${err.message} (the ${stored} points before it were stored; importing the repaired file again skips them)`,
  );
}
