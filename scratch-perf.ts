import { historyTrack } from "./simulator/history-track.ts";
import { openDatabase } from "./server/store/database.ts";
import { PositionStore } from "./server/store/position-store.ts";
import { TrackStore } from "./server/store/track-store.ts";
import { queryTrack } from "./server/history/track-query.ts";
import { LevelBuilder } from "./server/history/level-builder.ts";
import { silentLogger } from "./server/logger.ts";

const days = Number(process.argv[2] ?? 3);
const t0 = Date.UTC(2025, 0, 1);
let t = performance.now();
const fixes = [...historyTrack({ seed: 1, startTs: t0, days })];
console.log("gen", fixes.length, (performance.now() - t).toFixed(0), "ms");
const db = openDatabase("/tmp/lodscratch/p.db");
db.exec("DELETE FROM positions; DELETE FROM track_levels; DELETE FROM track_chunks; DELETE FROM track_dirty;");
const store = new PositionStore(db);
t = performance.now();
for (let i = 0; i < fixes.length; i += 5000) {
  store.insertBatch(fixes.slice(i, i + 5000).map((position) => ({ deviceId: "car", position, receivedAt: 0, flag: null })));
}
console.log("insert", (performance.now() - t).toFixed(0), "ms");
const tracks = new TrackStore(db, store.trackMarks);
const rule = { maxGapMs: 300_000, maxJumpM: 5000 };
const b = new LevelBuilder(tracks, rule, { now: () => Date.now() }, silentLogger);
t = performance.now();
tracks.resetIfChanged(LevelBuilder.parameters(rule));
const n = b.drain();
console.log("build", n, "chunks", (performance.now() - t).toFixed(0), "ms");
console.log(db.prepare("SELECT level, count(*) FROM track_levels GROUP BY level").raw().all());
const device = tracks.deviceKey("car")!;
for (const detail of [{ toleranceM: 0 }, { zoom: 8 }, { zoom: 11 }, { zoom: 14 }, { zoom: 17 }]) {
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    const res = queryTrack(tracks, rule, { device, from: t0, to: t0 + days * 86400000, detail });
    const json = JSON.stringify(res.segments);
    if (r === 2) console.log(JSON.stringify(detail), "tol", res.toleranceM.toFixed(2), "segs", res.segments.length, "pts", res.segments.reduce((a, s) => a + s.length, 0), res.timing, "total", (performance.now() - t).toFixed(1), "json KB", json.length >> 10);
  }
}
