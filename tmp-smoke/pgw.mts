import { startPostgres } from "/work/main/test/support/postgres.ts";
import { openPool, migrate } from "/work/main/server/stores/postgres/database.ts";
import { Partitions } from "/work/main/server/stores/postgres/partitions.ts";
import { PgPositionWriter } from "/work/main/server/stores/postgres/writer.ts";
const pg = await startPostgres({ durable: true });
try {
  const pool = await openPool(pg.url);
  await migrate(pool);
  const parts = new Partitions(pool); await parts.load();
  const w = new PgPositionWriter(pool, parts, () => Date.now());
  const N = 2000, B = 9000;
  let ts = Date.now() - 3600_000;
  for (let round = 0; round < 12; round++) {
    const rows = [];
    for (let i = 0; i < B; i++) rows.push({ deviceId: `dev-${i % N}`, position: { ts: ts + Math.floor(i / N) * 1000, lat: 52.5 + i * 1e-6, lon: 13.4, speed: 10, course: 90 }, receivedAt: Date.now(), flag: null });
    ts += Math.ceil(B / N) * 1000;
    const t0 = performance.now();
    await w.write([rows]);
    console.log(round, (performance.now() - t0).toFixed(0), "ms");
  }
  await pool.end();
} finally { pg.stop(); }
