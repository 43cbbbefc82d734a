import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LevelBuilder } from "../../server/history/level-builder.ts";
import { silentLogger } from "../../server/logger.ts";
import { CHUNK_MS, type NewPosition } from "../../server/stores/ports.ts";
import { openSqliteStores, type SqliteStores } from "../../server/stores/sqlite/index.ts";

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
let stores: SqliteStores;

function open(commit = { commitDelayMs: 0, commitMaxRows: 5000 }): SqliteStores {
  return openSqliteStores(
    { file: join(dir, "locus.db"), durability: "normal", worker: true, ...commit },
    silentLogger,
  );
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "locus-writer-"));
  stores = open();
});

afterEach(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

const everything = { from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10, withFlagged: true };

describe("SQLite positions on the storage worker", () => {
  it("stores every field, tells duplicates apart, and reads back what the worker wrote", async () => {
    const { positions } = stores;
    const rows = [
      fix("van", T0, { position: { ts: T0, lat: 1, lon: 2, alt: 30, accuracy: 4, battery: 80 } }),
      fix("van", T0 + 1000, {
        position: { ts: T0 + 1000, lat: 1.5, lon: 2.5, attributes: { ignition: true } },
      }),
      fix("van", T0 + 2000, { flag: "null_island" }),
    ];
    expect(await positions.append(rows)).toEqual([true, true, true]);
    expect(await positions.append([fix("van", T0 + 1000), fix("van", T0 + 3000)])).toEqual([
      false,
      true,
    ]);

    const stored = await positions.page("van", everything);
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

  it("knows a device registered on the main connection when the worker stores its first fix", async () => {
    // Registered before and after the worker has started: either way the main thread resolves
    // the device, so its fixes are readable at once (issue #12, defect 1).
    await stores.devices.update("early", { idOnly: true }, T0);
    await stores.positions.append([fix("early", T0)]);
    await stores.devices.update("late", { idOnly: true }, T0);
    await stores.positions.append([fix("late", T0)]);
    expect(await stores.positions.page("early", everything)).toHaveLength(1);
    expect(await stores.positions.page("late", everything)).toHaveLength(1);
  });

  it("marks an hour again after the level builder rebuilt it", async () => {
    const later = { now: () => T0 + 10 * CHUNK_MS };
    const rule = { maxGapMs: 300_000, maxJumpM: 5000 };
    const builder = new LevelBuilder(stores.tracks, rule, later, silentLogger);
    await stores.positions.append([fix("bus", T0), fix("bus", T0 + 1000)]);
    expect(await stores.tracks.pending()).toBe(2); // the hour and the next
    expect(await builder.drain()).toBe(2);
    expect(await stores.tracks.pending()).toBe(0);

    // The worker remembers having marked that hour; the main thread's rebuild must reach it, or
    // this fix would leave the rebuilt hour stale and unmarked.
    await stores.positions.append([fix("bus", T0 + 2000)]);
    expect(await stores.tracks.pending()).toBe(2);
  });

  it("commits what is queued before it closes, then refuses", async () => {
    for (const k of [1, 2, 3]) await stores.devices.ensure(`d${k}`, T0);
    const writes = [1, 2, 3].map((k) =>
      stores.positions.append(Array.from({ length: 500 }, (_, i) => fix(`d${k}`, T0 + i))),
    );
    await stores.stopWriting();
    const results = await Promise.all(writes);
    expect(results.flat().every(Boolean)).toBe(true);
    expect(await stores.positions.page("d3", { ...everything, limit: 1000 })).toHaveLength(500);
    await expect(stores.positions.append([fix("late", T0)])).rejects.toThrow(/closing/);
  });

  it("runs exclusive work only between transactions", async () => {
    await stores.close();
    stores = open({ commitDelayMs: 0, commitMaxRows: 1 });
    await stores.devices.update("car", { idOnly: true }, T0);
    const seen: number[] = [];
    const visible = async () => seen.push((await stores.positions.page("car", everything)).length);
    const stored = stores.positions.append([fix("car", T0)]);
    const between = stores.committer.runExclusive(visible); // a write is under way: after it
    expect(seen).toEqual([]);
    await stored;
    await between;
    expect(seen).toEqual([1]);
  });

  it("deletes a removed device's rows after those already queued for it", async () => {
    await stores.devices.ensure("gone", T0);
    const queued = stores.positions.append([fix("gone", T0), fix("gone", T0 + 1000)]);
    const removed = await stores.devices.remove("gone");
    await queued;
    expect(removed).toBe(2);
    expect(await stores.devices.get("gone")).toBeNull();
    expect(await stores.positions.page("gone", everything)).toEqual([]);
    expect(stores.db.prepare("SELECT count(*) FROM positions").pluck().get()).toBe(0);
  });

  it("copies the WAL into the database file in the background, not inside a commit", async () => {
    // Far below wal_autocheckpoint, so no commit checkpoints: only the checkpoint thread can
    // move these pages from locus.db-wal into locus.db.
    const file = join(dir, "locus.db");
    const rows = Array.from({ length: 4000 }, (_, i) => fix(`dev-${i % 40}`, T0 + i * 1000));
    expect((await stores.positions.append(rows)).every(Boolean)).toBe(true);
    const written = statSync(`${file}-wal`).size;
    expect(written).toBeGreaterThan(200_000);
    await expect.poll(() => statSync(file).size, { timeout: 5000 }).toBeGreaterThan(written / 4);
  });
});
