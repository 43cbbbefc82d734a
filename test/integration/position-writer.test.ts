import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LevelBuilder } from "../../server/history/level-builder.ts";
import { CHUNK_MS } from "../../server/history/levels.ts";
import { GroupCommitter } from "../../server/ingest/group-commit.ts";
import { silentLogger } from "../../server/logger.ts";
import { openDatabase, type Db } from "../../server/store/database.ts";
import { PositionStore, type NewPosition } from "../../server/store/position-store.ts";
import { WorkerWriter } from "../../server/store/position-writer.ts";
import { TrackStore } from "../../server/store/track-store.ts";

// The storage worker on a real SQLite file, with the main thread's own connection beside it, as
// the server runs them.
const T0 = Date.UTC(2026, 0, 5, 10);
const fix = (deviceId: string, ts: number, extra: Partial<NewPosition> = {}): NewPosition => ({
  deviceId,
  position: { ts, lat: 52.5 + (ts - T0) / 1e9, lon: 13.4, speed: 3, course: 90 },
  receivedAt: T0,
  flag: null,
  ...extra,
});

let dir: string;
let db: Db;
let store: PositionStore;
let writer: WorkerWriter;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "locus-writer-"));
  const file = join(dir, "locus.db");
  db = openDatabase(file);
  store = new PositionStore(db);
  writer = new WorkerWriter({ file, durability: "normal" }, store, silentLogger);
});

afterEach(async () => {
  await writer.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("WorkerWriter", () => {
  it("stores every field, tells duplicates apart and teaches the main store new devices", async () => {
    expect(store.hasDevice("van")).toBe(false);
    const rows = [
      fix("van", T0, { position: { ts: T0, lat: 1, lon: 2, alt: 30, accuracy: 4, battery: 80 } }),
      fix("van", T0 + 1000, {
        position: { ts: T0 + 1000, lat: 1.5, lon: 2.5, attributes: { ignition: true } },
      }),
      fix("van", T0 + 2000, { flag: "null_island" }),
    ];
    expect(await writer.write(rows)).toEqual([true, true, true]);
    expect(await writer.write([fix("van", T0 + 1000), fix("van", T0 + 3000)])).toEqual([
      false,
      true,
    ]);

    expect(store.hasDevice("van")).toBe(true);
    const stored = store.positions("van", { from: 0, to: Infinity, limit: 10, withFlagged: true });
    expect(stored.map((p) => p.ts)).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000]);
    expect(stored[0]).toEqual({ ts: T0, lat: 1, lon: 2, alt: 30, accuracy: 4, battery: 80 });
    expect(stored[1]).toEqual({
      ts: T0 + 1000,
      lat: 1.5,
      lon: 2.5,
      attributes: { ignition: true },
    });
    expect(stored[2]!.flag).toBe("null_island");
  });

  it("marks an hour again after the level builder rebuilt it", async () => {
    const tracks = new TrackStore(db, store.trackMarks);
    const later = { now: () => T0 + 10 * CHUNK_MS };
    const builder = new LevelBuilder(
      tracks,
      { maxGapMs: 300_000, maxJumpM: 5000 },
      later,
      silentLogger,
    );
    await writer.write([fix("bus", T0), fix("bus", T0 + 1000)]);
    expect(tracks.pending()).toBe(2); // the hour and the next
    expect(builder.drain()).toBe(2);
    expect(tracks.pending()).toBe(0);

    // The worker remembers having marked that hour; the main thread's rebuild must reach it, or
    // this fix would leave the rebuilt hour stale and unmarked.
    await writer.write([fix("bus", T0 + 2000)]);
    expect(tracks.pending()).toBe(2);
  });

  it("finishes the writes under way before it closes", async () => {
    const writes = [1, 2, 3].map((k) =>
      writer.write(Array.from({ length: 500 }, (_, i) => fix(`d${k}`, T0 + i))),
    );
    await writer.close();
    const results = await Promise.all(writes);
    expect(results.flat().every(Boolean)).toBe(true);
    expect(store.positions("d3", { from: 0, to: Infinity, limit: 1000 })).toHaveLength(500);
    await expect(writer.write([fix("late", T0)])).rejects.toThrow(/closing/);
  });
});

describe("GroupCommitter with the worker", () => {
  it("runs exclusive work only between transactions", async () => {
    const committer = new GroupCommitter(writer, { delayMs: 0, maxRows: 1 }, silentLogger);
    const seen: number[] = [];
    const visible = () =>
      seen.push(store.positions("car", { from: 0, to: Infinity, limit: 9 }).length);
    const stored = committer.submit([fix("car", T0)]);
    committer.runExclusive(visible); // a transaction is under way: runs once it has committed
    expect(seen).toEqual([]);
    await stored;
    expect(seen).toEqual([1]);
    committer.runExclusive(visible); // nothing under way: at once
    expect(seen).toEqual([1, 1]);
  });
});
