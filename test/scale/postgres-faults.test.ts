import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import { silentLogger } from "../../server/logger.ts";
import { startLocus } from "../../server/start.ts";
import {
  connectDevice,
  makePosition,
  report,
  startTestLocus,
  storedRows,
  waitFor,
} from "../support/locus.ts";
import { freePort, startPostgres, type LocalPostgres } from "../support/postgres.ts";

// Issue #13, "Faults that must not lose anything", for the PostgreSQL store on a real PostgreSQL:
// while it is down no ack claims a commit, the node says why and recovers by itself.

let server: LocalPostgres;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(() => server?.stop());

async function createDatabase(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.toString();
}

const startWith = (db: string) =>
  startLocus(loadConfig([], {}, { port: 0, host: "127.0.0.1", db, logLevel: "silent" }), {
    logger: silentLogger,
  });

describe("PostgreSQL down and back", () => {
  it("withholds acks while PostgreSQL is down, reports why in /api/health, and recovers without a restart", async () => {
    const locus = await startTestLocus({}, { db: await createDatabase("restart") });
    try {
      const device = await connectDevice(locus.url, "van");
      const before = makePosition();
      expect(await report(device, before)).toMatchObject({ ok: true, accepted: 1 });

      server.halt();
      const during = [makePosition(), makePosition()];
      const refused = await report(device, during);
      // Never an ok for what is not committed: the device keeps it and sends it again.
      expect(refused.ok).toBe(false);
      const health = await waitFor(async () => {
        const reply = await fetch(`${locus.url}/api/health`);
        return reply.status === 503 ? ((await reply.json()) as Record<string, unknown>) : null;
      });
      expect(JSON.stringify(health)).toMatch(/PostgreSQL/);

      server.start();
      await waitFor(async () => (await fetch(`${locus.url}/api/health`)).status === 200, {
        timeoutMs: 15_000,
      });
      expect(await report(device, during)).toMatchObject({ ok: true, accepted: 2 });
      expect(await report(device, during)).toMatchObject({ ok: true, accepted: 0, duplicates: 2 });
      expect((await storedRows(locus.db, "van")).map((r) => r.ts)).toEqual(
        [before, ...during].map((p) => p.ts),
      );
      device.close();
    } finally {
      await locus.stop();
    }
  });
});

describe("bad configuration fails fast, naming the setting", () => {
  it("an unreachable server", async () => {
    const url = `postgres://locus:secret@127.0.0.1:${await freePort()}/locus`;
    await expect(startWith(url)).rejects.toThrow(
      /^--db \(LOCUS_DB\): cannot use .*\*\*\*.*ECONNREFUSED/,
    );
  });

  it("a database that does not exist", async () => {
    const url = new URL(server.url);
    url.pathname = "/no_such_database";
    await expect(startWith(url.toString())).rejects.toThrow(
      /^--db \(LOCUS_DB\): cannot use .*no_such_database.*does not exist/,
    );
  });

  it("a database of a newer schema version", async () => {
    const url = await createDatabase("newer");
    const first = await startWith(url);
    await first.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("UPDATE locus_schema SET version = version + 5");
    await client.end();
    await expect(startWith(url)).rejects.toThrow(
      /^--db \(LOCUS_DB\): cannot use .*newer: database schema version \d+ is newer than this Locus/,
    );
  });
});

describe("a connection lost in the middle of a transaction", () => {
  it("fails that transaction's next query and does not crash the process", async () => {
    const { openPool } = await import("../../server/stores/postgres/database.ts");
    const pool = await openPool(await createDatabase("locus_mid_tx"));
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      const client = await pool.connect();
      await client.query("BEGIN");
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // Between two queries, as a transaction waits on its own work: the server ends the session.
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
      await admin.end();
      await new Promise((r) => setTimeout(r, 200));
      await expect(client.query("SELECT 1")).rejects.toThrow();
      client.release();
      // The pool goes on with a fresh connection.
      expect((await pool.query<{ one: number }>("SELECT 1 AS one")).rows[0]!.one).toBe(1);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await pool.end();
    }
  });
});
