import { beforeAll, describe, expect, it } from "vitest";
import type { Position } from "../../protocol/index.ts";
import { LevelBuilder } from "../../server/history/level-builder.ts";
import { splitAt } from "../../server/history/gaps.ts";
import {
  queryTrack,
  TRACK_LIMITS,
  TrackNotReady,
  type TrackQuery,
} from "../../server/history/track-query.ts";
import { silentLogger } from "../../server/logger.ts";
import { CHUNK_MS } from "../../server/stores/ports.ts";
import { openSqliteStores } from "../../server/stores/sqlite/index.ts";
import { markAllChunks } from "../../server/stores/sqlite/tracks.ts";
import { historyTrack } from "../../simulator/history-track.ts";
import { maxDeviation, vertexCount } from "../support/track-check.ts";

// The track store and the query on a real SQLite database (in memory), fed through the position
// store as ingest feeds it, levels built by the real builder.
const T0 = Date.UTC(2026, 2, 2);
const DAYS = 2;
const rule = { maxGapMs: 300_000, maxJumpM: 5000 };
const fixes: Position[] = [
  ...historyTrack({ seed: 7, startTs: T0, days: DAYS, intervalMs: 2000, offChance: 0 }),
];
const stores = openSqliteStores(
  { file: ":memory:", durability: "normal", commitDelayMs: 0, commitMaxRows: 5000, worker: false },
  silentLogger,
);
const { positions, tracks } = stores;
const builder = new LevelBuilder(tracks, rule, { now: () => T0 + 30 * 86_400_000 }, silentLogger);
let device: number;

async function store(batch: Position[], deviceId = "car") {
  for (let i = 0; i < batch.length; i += 1000) {
    await positions.append(
      batch
        .slice(i, i + 1000)
        .map((position) => ({ deviceId, position, receivedAt: T0, flag: null })),
    );
  }
}

const query = (detail: TrackQuery["detail"], range = { from: T0, to: T0 + DAYS * 86_400_000 }) =>
  queryTrack(tracks, rule, { device, ...range, detail });

const inRange = (from: number, to: number) => fixes.filter((f) => f.ts >= from && f.ts <= to);

beforeAll(async () => {
  // A 20-minute hole on the first afternoon: a gap the levels must keep.
  await store(
    fixes.filter((f) => f.ts < T0 + 14 * CHUNK_MS || f.ts > T0 + 14 * CHUNK_MS + 1_200_000),
  );
  await builder.start();
  builder.stop();
  expect(await builder.drain()).toBeGreaterThanOrEqual(DAYS * 24);
  device = (await tracks.device("car"))!;
});

describe("queryTrack", () => {
  it("answers raw fixes for tolerance 0 over a range that fits", async () => {
    const from = T0 + 9 * CHUNK_MS + 123_000;
    const to = T0 + 11 * CHUNK_MS + 456_000;
    const { toleranceM, segments } = await query({ toleranceM: 0 }, { from, to });
    expect(toleranceM).toBe(0);
    expect(segments.flat().map((p) => [p[0], p[1], p[2]])).toEqual(
      inRange(from, to).map((f) => [f.ts, f.lat, f.lon]),
    );
  });

  it.each<{ zoom: number; toleranceM?: undefined } | { toleranceM: number; zoom?: undefined }>([
    { zoom: 10 },
    { zoom: 13 },
    { zoom: 16 },
    { toleranceM: 30 },
    { toleranceM: 500 },
  ])("stays within its stated tolerance of every fix, under the vertex cap: %j", async (detail) => {
    const { toleranceM, segments, timing } = await query(detail);
    const all = inRange(T0, T0 + DAYS * 86_400_000);
    const kept = all.filter(
      (f) => f.ts < T0 + 14 * CHUNK_MS || f.ts > T0 + 14 * CHUNK_MS + 1_200_000,
    );
    expect(vertexCount(segments)).toBeLessThanOrEqual(TRACK_LIMITS.maxVertices);
    expect(maxDeviation(kept, segments)).toBeLessThanOrEqual(toleranceM * 1.001 + 0.1);
    // Only the hole splits the line (parked nights still report, so they are no gap).
    expect(segments.length).toBe(2);
    if (detail.toleranceM !== undefined) {
      expect(toleranceM).toBeGreaterThanOrEqual(detail.toleranceM);
    }
    expect(timing.rowsRead).toBeLessThan(all.length);
  });

  it("raises the tolerance until the line fits a smaller cap, and says so", async () => {
    const limits = { ...TRACK_LIMITS, maxVertices: 300 };
    const { toleranceM, segments } = await queryTrack(
      tracks,
      rule,
      { device, from: T0, to: T0 + DAYS * 86_400_000, detail: { toleranceM: 10 } },
      limits,
    );
    expect(vertexCount(segments)).toBeLessThanOrEqual(300);
    expect(toleranceM).toBeGreaterThan(10);
    expect(maxDeviation(inRange(T0, T0 + 14 * CHUNK_MS - 1), segments)).toBeLessThanOrEqual(
      toleranceM * 1.001 + 0.1,
    );
  });

  it("starts and ends on the first and last fix of a range that cuts hours in two", async () => {
    const from = T0 + 8 * CHUNK_MS + 1_000_000;
    const to = T0 + 30 * CHUNK_MS + 2_000_000;
    const { segments } = await query({ toleranceM: 1000 }, { from, to });
    const expected = inRange(from, to);
    expect(segments[0]![0]![0]).toBe(expected[0]!.ts);
    expect(segments.at(-1)!.at(-1)![0]).toBe(expected.at(-1)!.ts);
  });

  it("shows late fixes in an old hour at once (raw), and from the levels once rebuilt", async () => {
    // A detour 3 km north in the middle of the first night, when the car was parked.
    const night = T0 + 2 * CHUNK_MS;
    const parked = fixes.find((f) => f.ts >= night)!;
    const detour = Array.from({ length: 60 }, (_, i) => ({
      ts: night + 1000 + i * 2000,
      lat: parked.lat + 0.03 * Math.sin((Math.PI * i) / 59),
      lon: parked.lon,
    }));
    await store(detour);
    const reaches = async () =>
      Math.max(...(await query({ toleranceM: 500 })).segments.flat().map((p) => p[1])) >
      parked.lat + 0.025;
    expect(await tracks.pending()).toBeGreaterThan(0);
    expect(await reaches()).toBe(true);
    // Also in a view around the detour's far end, which the hour's stale box does not meet.
    const apex = { lat: parked.lat + 0.03, lon: parked.lon };
    const bbox = {
      west: apex.lon - 0.003,
      south: apex.lat - 0.003,
      east: apex.lon + 0.003,
      north: apex.lat + 0.003,
    };
    const inView = await queryTrack(tracks, rule, {
      device,
      from: T0,
      to: T0 + DAYS * 86_400_000,
      detail: { zoom: 16 },
      bbox,
    });
    expect(inView.segments.flat().length).toBeGreaterThan(3);
    expect(await builder.drain()).toBe(2); // that hour and the next (whose first vertex may now join)
    expect(await tracks.pending()).toBe(0);
    const level = await tracks.level(device, 3, night, night + CHUNK_MS - 1);
    expect(Math.max(...level.points.map((p) => p[1]))).toBeGreaterThan(parked.lat + 0.025);
    expect(await reaches()).toBe(true);
    expect(splitAt(level.points, level.breakBefore).length).toBeGreaterThan(0);
  });

  it("asks to retry while too many hours of the range await the builder", async () => {
    markAllChunks(stores.db);
    const limits = { ...TRACK_LIMITS, maxDirtyChunks: 10 };
    const range = { device, from: T0, to: T0 + DAYS * 86_400_000 };
    await expect(
      queryTrack(tracks, rule, { ...range, detail: { zoom: 10 } }, limits),
    ).rejects.toThrow(TrackNotReady);
    // A short range reads its few stale hours raw.
    expect((await query({ zoom: 10 }, { from: T0, to: T0 + 3 * CHUNK_MS })).segments.length).toBe(
      1,
    );
    await builder.drain();
    expect((await query({ zoom: 10 })).segments.length).toBe(2);
  });
  it("writes raw segments as JSON in SQLite, split where the levels saw gaps, as in code", async () => {
    // Its own device: two hours of the track with a 20-minute hole (a time gap) and one fix
    // 8 km away (a jump out and back), so four pieces, the far fix alone.
    const from = T0 + 2 * CHUNK_MS;
    const to = from + 2 * CHUNK_MS - 1;
    // Last of these tests: its device's dirty hours would count in the builder tests above.
    const track = inRange(from, to).filter(
      (f) => f.ts < from + 1_800_000 || f.ts > from + 3_000_000,
    );
    const far = track.length - 100;
    track[far] = { ...track[far]!, lat: track[far]!.lat + 0.072 };
    await store(track, "jumper");
    const jumper = (await tracks.device("jumper"))!;
    await builder.drain();
    const raw = { device: jumper, from, to, detail: { toleranceM: 0 } };
    const inCode = await queryTrack(tracks, rule, raw);
    const inSql = await queryTrack(tracks, rule, { ...raw, json: true });
    expect(inCode.segmentsJson).toBeUndefined();
    expect(inSql.segments).toEqual([]);
    expect(inCode.segments.map((s) => s.length)).toEqual([
      expect.any(Number),
      expect.any(Number),
      1,
      expect.any(Number),
    ]);
    expect(JSON.parse(inSql.segmentsJson!)).toEqual(inCode.segments);
    // Hours awaiting the builder, or beyond the raw cap, take the general path.
    const late = { ...track[10]!, ts: track[10]!.ts + 1 };
    await store([late], "jumper");
    expect((await queryTrack(tracks, rule, { ...raw, json: true })).segmentsJson).toBeUndefined();
    const capped = { ...TRACK_LIMITS, maxRawPoints: 100 };
    expect(
      (await queryTrack(tracks, rule, { ...raw, json: true }, capped)).segmentsJson,
    ).toBeUndefined();
  });
});
