import {
  checkReport,
  type Position,
  type RejectedPosition,
  type ReportAck,
} from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { NewPosition } from "../store/position-store.ts";
import { ShuttingDownError, type GroupCommitter } from "./group-commit.ts";
import type { PlausibilityCheck } from "./plausibility.ts";
import type { RateLimiter } from "./rate-limit.ts";

/**
 * Told about positions only once they are committed, so nothing live is ever missing on disk.
 * `plausible` holds the newly stored fixes fit for live views (empty when the report held only
 * duplicates or implausible fixes: the device is still alive, which the map shows).
 */
export type StoredListener = (deviceId: string, plausible: Position[], receivedAt: number) => void;

export interface IngestDeps {
  committer: GroupCommitter;
  limiter: RateLimiter;
  plausibility: PlausibilityCheck;
  maxFutureMs: number;
  clock: Clock;
  logger: Logger;
  onStored: StoredListener;
}

/**
 * The one way a position enters Locus, whatever transport carried it: limit, validate, flag,
 * commit, then announce. Transports (socket.io today, HTTP and plain WebSocket later) only
 * translate to and from this call, so every device gets the same rules, duplicates and errors.
 */
export class Ingest {
  constructor(private readonly deps: IngestDeps) {}

  async report(deviceId: string, payload: unknown): Promise<ReportAck> {
    const { limiter, clock, maxFutureMs } = this.deps;
    const receivedAt = clock.now();
    // Before any parsing: a flood must cost as little as possible.
    if (!limiter.take(deviceId, receivedAt)) {
      const wait = limiter.retryAfterMs(deviceId);
      return {
        ok: false,
        error: {
          code: "rate_limited",
          message: `too many reports from this device; retry in ${wait} ms`,
          retryAfterMs: wait,
        },
      };
    }
    const checked = checkReport(payload);
    if ("error" in checked) return { ok: false, error: checked.error };

    const latestAllowed = receivedAt + maxFutureMs;
    const rows: NewPosition[] = [];
    const rejected = checked.rejected;
    for (const { index, position } of checked.valid) {
      if (position.ts > latestAllowed) {
        rejected.push({
          index,
          field: "ts",
          message: `must not be more than ${maxFutureMs / 1000} s ahead of the server clock`,
        });
      } else {
        rows.push({ deviceId, position, receivedAt, flag: null });
      }
    }
    rejected.sort((a, b) => a.index - b.index);
    if (rows.length === 0) return { ok: true, accepted: 0, duplicates: 0, rejected };
    return this.store(deviceId, rows, rejected, receivedAt);
  }

  private async store(
    deviceId: string,
    rows: NewPosition[],
    rejected: RejectedPosition[],
    receivedAt: number,
  ): Promise<ReportAck> {
    const { committer, plausibility, logger, onStored } = this.deps;
    // Checked in time order so each fix is judged against the one before it, whatever the
    // order inside the batch.
    const byTime = [...rows].sort((a, b) => a.position.ts - b.position.ts);
    for (const row of byTime) row.flag = plausibility.check(deviceId, row.position);

    let inserted: boolean[];
    try {
      inserted = await committer.submit(rows);
    } catch (err) {
      if (err instanceof ShuttingDownError) {
        return {
          ok: false,
          error: { code: "shutting_down", message: "server is shutting down, retry" },
        };
      }
      logger.error({ err, deviceId }, "report failed");
      return {
        ok: false,
        error: { code: "internal", message: "could not store positions, retry" },
      };
    }

    let accepted = 0;
    const plausible: Position[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (!inserted[i]) continue;
      accepted++;
      if (rows[i]!.flag === null) plausible.push(rows[i]!.position);
    }
    onStored(deviceId, plausible, receivedAt);
    return { ok: true, accepted, duplicates: rows.length - accepted, rejected };
  }
}
