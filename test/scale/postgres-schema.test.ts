import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, openPool, schemaVersion } from "../../server/stores/postgres/database.ts";
import { PG_MIGRATIONS } from "../../server/stores/postgres/migrations.ts";
import { monthOf, Partitions } from "../../server/stores/postgres/partitions.ts";
import { freePort, startPostgres, type LocalPostgres } from "../support/postgres.ts";

// The PostgreSQL store's foundation (issue #13) on a real PostgreSQL started for this file:
// numbered migrations, monthly partitions, the (device, ts) duplicate key, failing fast.

let server: LocalPostgres;
let pool: pg.Pool;
const NOW = Date.UTC(2026, 11, 5, 12);

beforeAll(async () => {
  server = await startPostgres();
  pool = await openPool(server.url);
});

afterAll(async () => {
  await pool?.end();
  server?.stop();
});

describe("PostgreSQL schema", () => {
  it("migrates an empty database once, even when two nodes start together", async () => {
    expect(await schemaVersion(pool)).toBe(0);
    const [a, b] = await Promise.all([migrate(pool), migrate(pool)]);
    // One of them did the work under the advisory lock; the other found it done.
    expect([a, b].map((r) => r.from).sort()).toEqual([0, PG_MIGRATIONS.length]);
    expect(await schemaVersion(pool)).toBe(PG_MIGRATIONS.length);
    expect(await migrate(pool)).toEqual({ from: PG_MIGRATIONS.length, to: PG_MIGRATIONS.length });
  });

  it("creates this month's partition and the next ones, once, plus any past month asked for", async () => {
    const partitions = new Partitions(pool);
    await partitions.load();
    const created = await partitions.ensureAhead(NOW);
    expect(created).toEqual(["positions_2026_12", "positions_2027_01", "positions_2027_02"]);
    expect(await partitions.ensureAhead(NOW)).toEqual([]);
    // Another node, knowing nothing yet, finds them made and makes no second copy.
    const other = new Partitions(pool);
    expect(await other.ensureAhead(NOW)).toEqual([]);
    const old = Date.UTC(2019, 1, 28, 23, 59);
    await other.ensureFor([old, old + 1]);
    const { rows } = await pool.query(
      "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'positions_2019%' ORDER BY relname",
    );
    expect(rows.map((r) => r.relname)).toEqual(["positions_2019_02"]);
    expect(monthOf(Date.UTC(2019, 2, 1))).toMatchObject({ name: "positions_2019_03" });
  });

  it("stores a resent fix once: (device, ts) is the key across partitions", async () => {
    const insert = (ts: number, lat: number) =>
      pool.query(
        `INSERT INTO positions (device, ts, lat, lon, received_at) VALUES (1, $1, $2, 13.4, $1)
         ON CONFLICT DO NOTHING RETURNING ts`,
        [ts, lat],
      );
    expect((await insert(NOW, 52.5)).rowCount).toBe(1);
    expect((await insert(NOW, 99)).rowCount).toBe(0);
    expect((await insert(Date.UTC(2027, 0, 1), 52.6)).rowCount).toBe(1);
    const { rows } = await pool.query(
      "SELECT tableoid::regclass AS part, lat FROM positions ORDER BY ts",
    );
    expect(rows).toEqual([
      { part: "positions_2026_12", lat: 52.5 },
      { part: "positions_2027_01", lat: 52.6 },
    ]);
  });

  it("refuses a database whose schema is newer than this Locus", async () => {
    await pool.query("UPDATE locus_schema SET version = version + 1");
    const n = PG_MIGRATIONS.length;
    await expect(migrate(pool)).rejects.toThrow(
      `database schema version ${n + 1} is newer than this Locus (${n}); upgrade Locus`,
    );
    await pool.query("UPDATE locus_schema SET version = version - 1");
  });

  it("fails fast at start, naming the setting and hiding the password, when the server is not there", async () => {
    const port = await freePort();
    await expect(openPool(`postgres://locus:secret@127.0.0.1:${port}/postgres`)).rejects.toThrow(
      /^--db \(LOCUS_DB\): cannot use postgres:\/\/locus:\*\*\*@127\.0\.0\.1:\d+\/postgres: .*ECONNREFUSED/,
    );
  });
});
