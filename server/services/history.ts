import type { Bbox } from "../../protocol/geo.ts";
import type { HistoryPosition, PositionRow } from "../../protocol/index.ts";
import { TrackAnalysis, type TrackAnalysisResult } from "../history/analysis.ts";
import type { GapRule } from "../history/gaps.ts";
import { queryTrack, TrackNotReady, type TrackResult } from "../history/track-query.ts";
import type { Thresholds } from "../history/stops.ts";
import type { PositionStore, TimeRange, TrackStore } from "../stores/ports.ts";
import type { AccessService, User } from "./access.ts";
import { badRequest, LocusError } from "./errors.ts";

export interface TrackRequest extends TimeRange {
  /** Either a tolerance in metres (0: raw fixes) or a map zoom. */
  detail: { toleranceM: number } | { zoom: number };
  bbox?: Bbox;
}

const NO_TRACK: TrackResult = {
  toleranceM: 0,
  segments: [],
  timing: { readMs: 0, simplifyMs: 0, level: -1, rowsRead: 0 },
};

/**
 * A device's history as a user may see it: pages of fixes, level-of-detail tracks, trips and
 * stops, exports. Every method first asks AccessService whether the user may see the device, so
 * an unknown device and one not granted answer alike everywhere, and a registered device that
 * never reported answers with empty history everywhere.
 */
export class HistoryService {
  constructor(
    private readonly deps: {
      positions: PositionStore;
      tracks: TrackStore;
      access: AccessService;
      thresholds: Thresholds;
      gaps: GapRule;
    },
  ) {}

  get thresholds(): Thresholds {
    return this.deps.thresholds;
  }

  /** Fixes oldest first, at most `limit`, and whether more follow the last one. */
  async page(
    user: User,
    deviceId: string,
    query: TimeRange & { limit: number; withFlagged: boolean },
  ): Promise<{ positions: HistoryPosition[]; more: boolean }> {
    await this.visible(user, deviceId, query);
    // One row more than asked tells whether a next page exists without a second query.
    const rows = await this.deps.positions.page(deviceId, { ...query, limit: query.limit + 1 });
    return { positions: rows.slice(0, query.limit), more: rows.length > query.limit };
  }

  async track(user: User, deviceId: string, request: TrackRequest): Promise<TrackResult> {
    await this.visible(user, deviceId, request);
    const device = await this.deps.tracks.device(deviceId);
    if (device === undefined) return NO_TRACK;
    try {
      return await queryTrack(this.deps.tracks, this.deps.gaps, { device, ...request, json: true });
    } catch (err) {
      if (err instanceof TrackNotReady) throw new LocusError("not_ready", err.message);
      throw err;
    }
  }

  /** Stops, trips and totals in one pass over the range, page by page. */
  async analyze(user: User, deviceId: string, range: TimeRange): Promise<TrackAnalysisResult> {
    const analysis = new TrackAnalysis(this.deps.thresholds);
    for await (const page of await this.scan(user, deviceId, range)) {
      for (const row of page) analysis.add(row);
      // Each page is a short synchronous read: let ingest and other requests in between.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return analysis.finish();
  }

  /** The plausible fixes of a range in pages, for exports. */
  async scan(
    user: User,
    deviceId: string,
    range: TimeRange,
  ): Promise<AsyncIterable<PositionRow[]>> {
    await this.visible(user, deviceId, range);
    return this.deps.positions.scan(deviceId, range);
  }

  private async visible(user: User, deviceId: string, range: TimeRange): Promise<void> {
    await this.deps.access.visibleDevice(user, deviceId);
    if (range.from > range.to) throw badRequest("from", "must not be after to");
  }
}
