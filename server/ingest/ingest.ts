import { checkReport, type Position, type ReportAck } from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { NewPosition } from "../store/position-store.ts";
import { ShuttingDownError, type GroupCommitter } from "./group-commit.ts";

/**
 * Told about positions only once they are committed, so nothing live is ever missing on disk.
 * `stored` holds the newly stored fixes (empty when the report held only duplicates).
 */
export type StoredListener = (deviceId: string, stored: Position[], receivedAt: number) => void;

/**
 * The one way a position enters Locus, whatever transport carried it: validate, commit, then
 * announce. Transports (socket.io today, HTTP and plain WebSocket later) only translate to and
 * from this call, so every device gets the same rules, duplicates handling and errors.
 */
export class Ingest {
  constructor(
    private readonly committer: GroupCommitter,
    private readonly options: { maxFutureMs: number },
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onStored: StoredListener,
  ) {}

  async report(deviceId: string, payload: unknown): Promise<ReportAck> {
    const checked = checkReport(payload);
    if ("error" in checked) return { ok: false, error: checked.error };

    const receivedAt = this.clock.now();
    const latestAllowed = receivedAt + this.options.maxFutureMs;
    const rows: NewPosition[] = [];
    const rejected = checked.rejected;
    for (const { index, position } of checked.valid) {
      if (position.ts > latestAllowed) {
        rejected.push({
          index,
          field: "ts",
          message: `must not be more than ${this.options.maxFutureMs / 1000} s ahead of the server clock`,
        });
      } else {
        rows.push({ deviceId, position, receivedAt });
      }
    }
    rejected.sort((a, b) => a.index - b.index);
    if (rows.length === 0) return { ok: true, accepted: 0, duplicates: 0, rejected };

    let inserted: boolean[];
    try {
      inserted = await this.committer.submit(rows);
    } catch (err) {
      if (err instanceof ShuttingDownError) {
        return { ok: false, error: { code: "shutting_down", message: "server is shutting down, retry" } };
      }
      this.logger.error({ err, deviceId }, "report failed");
      return { ok: false, error: { code: "internal", message: "could not store positions, retry" } };
    }

    const stored: Position[] = [];
    for (let i = 0; i < rows.length; i++) if (inserted[i]) stored.push(rows[i]!.position);
    // Announced even when everything was a duplicate: the device is alive, which the map shows.
    this.onStored(deviceId, stored, receivedAt);
    return {
      ok: true,
      accepted: stored.length,
      duplicates: rows.length - stored.length,
      rejected,
    };
  }
}
