import { existsSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { LevelBuilder } from "../../server/history/level-builder.ts";
import { gapRuleFrom } from "../../server/services/index.ts";
import { silentLogger } from "../../server/logger.ts";
import { openSqliteStores } from "../../server/stores/sqlite/index.ts";
import { openDatabase } from "../../server/stores/sqlite/database.ts";
import { markAllChunks } from "../../server/stores/sqlite/tracks.ts";
import { historyTrack } from "../../simulator/history-track.ts";

/** Bump when the generated data or the schema it needs changes: older cached files are ignored. */
const VERSION = 3;
const DAY_MS = 86_400_000;
export const YEAR_DEVICE = "year-car";
/** Other devices, a few days each, so the year's device is not alone in the table. */
const OTHERS = 10;
const OTHER_DAYS = 2;

export interface HistoryDb {
  file: string;
  /** First and last day of the long track (epoch ms of midnight UTC). */
  start: number;
  days: number;
  /** How it was made, when this run made it (null: taken from the cache). */
  generated: { rows: number; insertS: number; levelsS: number; chunks: number } | null;
}

/**
 * A database as Locus would have it after a year: one car at 1 Hz for `days` days (31.5M fixes
 * for a year) among a few others, written with the store's own schema and its levels built by the
 * same builder the server runs. Cached under the temp folder by version and size.
 */
export async function historyDb(days: number): Promise<HistoryDb> {
  const start = Date.UTC(2025, 0, 1);
  const file = join(tmpdir(), `locus-bench-history-v${VERSION}-${days}d.sqlite`);
  if (existsSync(file)) return { file, start, days, generated: null };

  const partial = `${file}.partial`;
  for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
  const db = openDatabase(partial);
  db.pragma("synchronous = OFF"); // a crash only loses this cache file
  const insertDevice = db.prepare("INSERT INTO devices (uid, created_at) VALUES (?, ?)");
  const insert = db.prepare(
    `INSERT INTO positions (device, ts, lat, lon, speed, course, alt, accuracy, battery, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  type Fix = ReturnType<typeof historyTrack> extends Generator<infer P> ? P : never;
  const commit = db.transaction((device: number, rows: Fix[]) => {
    for (const p of rows) {
      insert.run(device, p.ts, p.lat, p.lon, p.speed, p.course, p.alt, p.accuracy, p.battery, p.ts);
    }
  });
  const load = (uid: string, fixes: Iterable<Fix>) => {
    const device = Number(insertDevice.run(uid, start).lastInsertRowid);
    let batch: Fix[] = [];
    let rows = 0;
    for (const fix of fixes) {
      batch.push(fix);
      if (batch.length === 50_000) {
        commit(device, batch);
        rows += batch.length;
        batch = [];
        if (rows % 1_000_000 === 0) console.log(`  ${uid}: ${rows.toLocaleString("en")} fixes…`);
      }
    }
    commit(device, batch);
    return rows + batch.length;
  };

  const began = performance.now();
  let rows = load(YEAR_DEVICE, historyTrack({ seed: 2025, startTs: start, days }));
  for (let i = 0; i < OTHERS; i++) {
    const from = start + Math.floor((days * i) / OTHERS) * DAY_MS;
    rows += load(`car-${i}`, historyTrack({ seed: 100 + i, startTs: from, days: OTHER_DAYS }));
  }
  const insertS = (performance.now() - began) / 1000;

  // Levels as the server builds them in the background, all at once.
  console.log(`  building track levels…`);
  markAllChunks(db);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  const stores = openSqliteStores(
    { file: partial, durability: "normal", commitDelayMs: 0, commitMaxRows: 1, worker: false },
    silentLogger,
  );
  const builder = new LevelBuilder(
    stores.tracks,
    gapRuleFrom(DEFAULT_CONFIG),
    { now: () => Date.now() },
    silentLogger,
  );
  const levelsBegan = performance.now();
  await builder.start();
  builder.stop();
  const chunks = await builder.drain();
  const levelsS = (performance.now() - levelsBegan) / 1000;
  stores.db.pragma("wal_checkpoint(TRUNCATE)");
  await stores.close();
  renameSync(partial, file);
  return { file, start, days, generated: { rows, insertS, levelsS, chunks } };
}
