import { startPostgres } from "/work/main/test/support/postgres.ts";
import { openPool, migrate } from "/work/main/server/stores/postgres/database.ts";
import { Partitions } from "/work/main/server/stores/postgres/partitions.ts";
const pg = await startPostgres({ durable: true });
try {
  const pool = await openPool(pg.url);
  await migrate(pool);
  const parts = new Partitions(pool); await parts.load(); await parts.ensureAhead(Date.now());
  const N = 2000, B = 9000;
  const c = await pool.connect();
  const uids = Array.from({length: N}, (_, i) => `dev-${i}`);
  await c.query(`INSERT INTO devices (uid, created_at) SELECT unnest($1::text[]), 0`, [uids]);
  let ts = Date.now() - 3600_000;
  for (let round = 0; round < 8; round++) {
    const cols = Array.from({length: 12}, () => new Array(B));
    for (let i = 0; i < B; i++) { const v = [1 + (i % N), ts + Math.floor(i / N) * 1000, 52.5 + i * 1e-6, 13.4, 10, 90, null, null, null, null, Date.now(), null]; for (let k = 0; k < 12; k++) cols[k][i] = v[k]; }
    ts += Math.ceil(B / N) * 1000;
    const t: number[] = [performance.now()];
    await c.query("BEGIN"); t.push(performance.now());
    await c.query(`SELECT id, uid FROM devices WHERE uid = ANY($1::text[])`, [uids]); t.push(performance.now());
    const r = await c.query({ text: `INSERT INTO positions (device, ts, lat, lon, speed, course, alt, accuracy, battery, attributes, received_at, flag) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::json[], $11::bigint[], $12::text[]) ON CONFLICT DO NOTHING RETURNING device, ts`, values: cols }); t.push(performance.now());
    await c.query("COMMIT"); t.push(performance.now());
    console.log(round, t.slice(1).map((x, i) => (x - t[i]).toFixed(0)).join(" / "), "ms (begin/devices/insert/commit)", r.rowCount);
  }
  // server-side only timing of insert
  await c.query("SET log_min_duration_statement = 0");
  c.release(); await pool.end();
} finally { pg.stop(); }
