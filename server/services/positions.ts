import { ImportError, type ReadPoint } from "../../formats/read-point.ts";
import {
  checkReport,
  describeIssue,
  positionSchema,
  type ErrorCode,
  type ImportReply,
  type Position,
  type ReportAck,
} from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { StoreClosedError, type NewPosition, type PositionStore } from "../stores/ports.ts";
import type { DeviceService } from "./devices.ts";
import { LocusError } from "./errors.ts";
import type { Origin } from "./origin.ts";
import { PlausibilityCheck, type PlausibilityRules } from "./plausibility.ts";
import type { RateLimiter } from "./rate-limit.ts";

/**
 * Told about positions once they are committed, so nothing live is ever missing on disk.
 * `plausible` holds the newly stored fixes fit for live views (empty when a report held only
 * duplicates or implausible fixes: the device is still alive). `receivedAt` is when a live report
 * arrived, or null for fixes from a file, which say nothing about the device being online now.
 * `origin` is "peer" for fixes another node of the cluster committed (see `adoptPeerFixes`).
 */
export type StoredListener = (
  deviceId: string,
  plausible: Position[],
  receivedAt: number | null,
  origin: Origin,
) => void;

/** The doors a fix comes through (`rest`, `cli`: file imports): a label on the ingest metrics. */
export const TRANSPORTS = ["socketio", "ws", "osmand", "owntracks", "rest", "cli"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/**
 * Told how every report and import batch ended, for metrics. Called once per message or batch
 * with counts, never per position, so the ingest path pays a few calls per report at most.
 */
export interface IngestObserver {
  counted(via: Transport, accepted: number, duplicates: number): void;
  /** `count` positions refused with `reason`: a report's error code, or `invalid_payload` for one bad position. */
  rejected(via: Transport, reason: ErrorCode, count: number): void;
  /** A live report answered `ms` after it arrived (the ack leaves right after). */
  acked(via: Transport, ms: number): void;
}

export interface PositionRules extends PlausibilityRules {
  /** How far in the future a fix's `ts` may be, for devices with drifting clocks (ms). */
  maxFutureMs: number;
}

const MAX_REPORTED_ERRORS = 20;
const IMPORT_BATCH = 2_000;

/**
 * The one path every fix takes, whatever carried it (socket.io, plain WebSocket, the phone apps'
 * HTTP, a file import, the CLI): validate → plausibility → commit → ack → live. Transports only
 * translate to and from these calls, so every device gets the same rules, duplicates and errors.
 */
export class PositionService {
  private readonly listeners: StoredListener[] = [];

  constructor(
    private readonly deps: {
      store: PositionStore;
      devices: DeviceService;
      limiter: RateLimiter;
      /** The live chain of each device's last plausible fix. */
      plausibility: PlausibilityCheck;
      rules: PositionRules;
      clock: Clock;
      logger: Logger;
      observer?: IngestObserver;
    },
  ) {}

  onStored(listener: StoredListener): void {
    this.listeners.push(listener);
  }

  /** A live report from an authenticated device: one position or a batch. */
  async report(deviceId: string, payload: unknown, via: Transport): Promise<ReportAck> {
    const observer = this.deps.observer;
    if (!observer) return this.answer(deviceId, payload);
    const started = performance.now();
    const ack = await this.answer(deviceId, payload);
    if (ack.ok) {
      observer.counted(via, ack.accepted, ack.duplicates);
      if (ack.rejected.length > 0) observer.rejected(via, "invalid_payload", ack.rejected.length);
    } else {
      // The whole message was refused: each position in it counts, under the message's code.
      observer.rejected(via, ack.error.code, Array.isArray(payload) ? payload.length : 1);
    }
    observer.acked(via, performance.now() - started);
    return ack;
  }

  private async answer(deviceId: string, payload: unknown): Promise<ReportAck> {
    const { limiter, clock } = this.deps;
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

    const rows: NewPosition[] = [];
    const rejected = checked.rejected;
    for (const { index, position } of checked.valid) {
      const tooEarly = this.aheadOfClock(position, receivedAt);
      if (tooEarly) rejected.push({ index, field: "ts", message: tooEarly });
      else rows.push({ deviceId, position, receivedAt, flag: null });
    }
    rejected.sort((a, b) => a.index - b.index);
    if (rows.length === 0) return { ok: true, accepted: 0, duplicates: 0, rejected };

    // Checked in time order so each fix is judged against the one before it, whatever the
    // order inside the batch.
    const byTime = rows.length > 1 ? [...rows].sort((a, b) => a.position.ts - b.position.ts) : rows;
    for (const row of byTime) row.flag = this.deps.plausibility.check(deviceId, row.position);

    let inserted: boolean[];
    try {
      inserted = await this.store(deviceId, rows);
    } catch (err) {
      if (err instanceof StoreClosedError) {
        return {
          ok: false,
          error: { code: "shutting_down", message: "server is shutting down, retry" },
        };
      }
      // The device was removed while this report was on its way.
      if (err instanceof LocusError && err.code === "unauthorized") {
        return { ok: false, error: { code: "unauthorized", message: err.message } };
      }
      this.deps.logger.error({ err, deviceId }, "report failed");
      return {
        ok: false,
        error: { code: "internal", message: "could not store positions, retry" },
      };
    }
    const accepted = this.announce(deviceId, rows, inserted, receivedAt);
    return { ok: true, accepted, duplicates: rows.length - accepted, rejected };
  }

  /**
   * Points read from a file into one device, in batches, with the rules a live report gets: the
   * position schema, the future-time limit, and plausibility flags (judged along the file itself,
   * not against the device's live position, which may be years later). Duplicates are told apart
   * by the (device, ts) key, so importing the same file twice stores nothing the second time.
   *
   * A reader's ImportError stops the import; batches committed before it stay stored, which is
   * safe because importing the repaired file again skips them as duplicates.
   */
  async import(
    deviceId: string,
    batches: AsyncIterable<ReadPoint[]>,
    options: { via: Transport; batchSize?: number },
  ): Promise<ImportReply> {
    const { rules, clock, observer } = this.deps;
    const { via } = options;
    const batchSize = options.batchSize ?? IMPORT_BATCH;
    const now = clock.now();
    const plausibility = new PlausibilityCheck(rules);
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
      let inserted: boolean[];
      try {
        inserted = await this.store(deviceId, batch);
      } catch (err) {
        const code = err instanceof StoreClosedError ? "shutting_down" : "internal";
        observer?.rejected(via, code, batch.length);
        throw err;
      }
      const accepted = this.announce(deviceId, batch, inserted, null);
      reply.accepted += accepted;
      reply.duplicates += batch.length - accepted;
      observer?.counted(via, accepted, batch.length - accepted);
    };

    try {
      for await (const points of batches) {
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
          const tooEarly = this.aheadOfClock(position, now);
          if (tooEarly) {
            reject(at, `ts ${tooEarly}`);
            continue;
          }
          const flag = plausibility.check(deviceId, position);
          rows.push({ deviceId, position, receivedAt: now, flag });
        }
        if (rows.length >= batchSize) await commit();
      }
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      await commit();
      throw stoppedAt(err, reply.accepted + reply.duplicates);
    } finally {
      if (reply.rejected > 0) observer?.rejected(via, "invalid_payload", reply.rejected);
    }
    await commit();
    return reply;
  }

  /**
   * Fixes another node of the cluster committed and announced: this node's live state takes them
   * as if reported here. Live ones continue the device's plausibility chain, so a device that
   * moves to this node is judged against its true last fix; fixes from a file do not, as here.
   * Nothing is stored: the other node did that.
   */
  adoptPeerFixes(deviceId: string, plausible: Position[], receivedAt: number | null): void {
    if (receivedAt !== null) {
      for (const p of plausible) this.deps.plausibility.remember(deviceId, p);
    }
    for (const listener of this.listeners) listener(deviceId, plausible, receivedAt, "peer");
  }

  private aheadOfClock(position: Position, receivedAt: number): string | null {
    const { maxFutureMs } = this.deps.rules;
    return position.ts > receivedAt + maxFutureMs
      ? `must not be more than ${maxFutureMs / 1000} s ahead of the server clock`
      : null;
  }

  /** Commit the rows of one device, creating it first if this is its first fix. */
  private async store(deviceId: string, rows: NewPosition[]): Promise<boolean[]> {
    const { devices, store } = this.deps;
    if (!devices.known(deviceId)) await devices.ensure(deviceId);
    return store.append(rows);
  }

  /** Tell the live side what was newly stored; returns how many rows were new. */
  private announce(
    deviceId: string,
    rows: NewPosition[],
    inserted: boolean[],
    receivedAt: number | null,
  ): number {
    let accepted = 0;
    const plausible: Position[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (!inserted[i]) continue;
      accepted++;
      if (rows[i]!.flag === null) plausible.push(rows[i]!.position);
    }
    for (const listener of this.listeners) listener(deviceId, plausible, receivedAt, "here");
    return accepted;
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
