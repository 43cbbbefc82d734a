import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/stores/sqlite/database.ts";
import { migrate } from "../../server/stores/sqlite/migrate.ts";
import { MIGRATIONS } from "../../server/stores/sqlite/migrations.ts";

/**
 * "A schema migration never starts without a fresh backup of a SQLite database, runs in one
 * transaction, and a failed one leaves the previous version intact" (issue #13), on real files.
 */
const OLD_VERSION = 3; // devices with token_hash, positions with flag; no users yet

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A database as Locus at schema version 3 left it: only the first migrations, and some data. */
function oldDatabase(): string {
  dir = mkdtempSync(join(tmpdir(), "locus-migrate-"));
  const file = join(dir, "locus.db");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  migrate(db, { file, migrations: MIGRATIONS.slice(0, OLD_VERSION) });
  db.prepare(
    "INSERT INTO devices (id, uid, created_at) VALUES (1, 'truck-17', 1), (2, 'van-2', 2)",
  ).run();
  const insert = db.prepare(
    "INSERT INTO positions (device, ts, lat, lon, received_at) VALUES (?, ?, 52.5, 13.4, ?)",
  );
  for (let i = 0; i < 500; i++) insert.run(1 + (i % 2), 1_700_000_000_000 + i * 1000, i);
  db.close();
  return file;
}

const fingerprint = (db: Database.Database) => ({
  version: db.pragma("user_version", { simple: true }),
  devices: db.prepare("SELECT uid FROM devices ORDER BY id").pluck().all(),
  positions: db.prepare("SELECT count(*) FROM positions").pluck().get(),
  lastTs: db.prepare("SELECT max(ts) FROM positions").pluck().get(),
});

const backupsIn = (folder: string) => readdirSync(folder).filter((f) => f.endsWith(".bak"));

describe("SQLite schema migration", () => {
  it("writes a backup of the old version beside the file before migrating, and logs its path", () => {
    const file = oldDatabase();
    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );

    const db = openDatabase(file, { logger });
    const migrated = fingerprint(db);
    db.close();

    expect(migrated).toEqual({
      version: MIGRATIONS.length,
      devices: ["truck-17", "van-2"],
      positions: 500,
      lastTs: 1_700_000_499_000,
    });
    const [name, ...others] = backupsIn(dir);
    expect(others).toEqual([]);
    expect(name).toMatch(
      new RegExp(`^locus\\.db\\.before-v${MIGRATIONS.length}-\\d{8}T\\d{6}Z\\.bak$`),
    );
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
    const backup = new Database(join(dir, name!), { readonly: true });
    expect({
      ...fingerprint(backup),
      version: backup.pragma("user_version", { simple: true }),
    }).toEqual({ ...migrated, version: OLD_VERSION });
    expect(backup.pragma("integrity_check", { simple: true })).toBe("ok");
    backup.close();
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; backup?: string });
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: "schema migration: backup written",
        backup: join(dir, name!),
      }),
    );

    // Up to date: no second backup.
    openDatabase(file).close();
    expect(backupsIn(dir)).toHaveLength(1);
  });

  it("leaves the old version and its data intact when a migration fails, all of them rolled back", () => {
    const file = oldDatabase();
    const db = new Database(file);
    const before = fingerprint(db);
    // Every real migration after version 3 succeeds; the last one, ours, fails half-way.
    const failing = [
      ...MIGRATIONS,
      "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);",
    ];

    expect(() => migrate(db, { file, migrations: failing })).toThrow(
      /no such table: no_such_table/,
    );

    expect(fingerprint(db)).toEqual(before);
    expect(before.version).toBe(OLD_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
    // Neither migration 4's users, nor 7's groups, nor the failed one's table survived.
    expect(tables).not.toContain("users");
    expect(tables).not.toContain("groups");
    expect(tables).not.toContain("half_done");
    expect(db.prepare("SELECT name FROM pragma_table_info('devices')").pluck().all()).not.toContain(
      "name",
    );
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
    // The backup was taken before anything ran, and a server still starts on the old file.
    expect(backupsIn(dir)).toHaveLength(1);
    const reopened = openDatabase(file);
    expect(fingerprint(reopened)).toEqual({ ...before, version: MIGRATIONS.length });
    reopened.close();
  });

  it("refuses a database newer than this Locus without touching it", () => {
    const file = oldDatabase();
    const db = new Database(file);
    expect(() => migrate(db, { file, migrations: MIGRATIONS.slice(0, 2) })).toThrow(
      "database schema version 3 is newer than this Locus (2); upgrade Locus",
    );
    expect(fingerprint(db).version).toBe(OLD_VERSION);
    db.close();
    expect(backupsIn(dir)).toEqual([]);
  });

  it("keeps the outbox's rows through the Web Push rebuild (v10) as webhook rows, ids still rising", () => {
    dir = mkdtempSync(join(tmpdir(), "locus-migrate-"));
    const file = join(dir, "locus.db");
    const db = new Database(file);
    migrate(db, { file, migrations: MIGRATIONS.slice(0, 9) });
    const row = db.prepare(
      `INSERT INTO outbox (webhook_id, event_id, event_type, device_uid, body, next_at, status,
                           created_at) VALUES (?, ?, 'alarm', 'van-2', '{}', 1, ?, 1)`,
    );
    row.run(7, 1, "delivered");
    row.run(7, 2, "pending");
    row.run(7, 3, "failed");
    // The newest row was purged: its id must still never come back.
    db.prepare("DELETE FROM outbox WHERE event_id = 3").run();
    migrate(db, { file });
    expect(
      db.prepare("SELECT id, channel, target_id, event_id, status FROM outbox ORDER BY id").all(),
    ).toEqual([
      { id: 1, channel: "webhook", target_id: 7, event_id: 1, status: "delivered" },
      { id: 2, channel: "webhook", target_id: 7, event_id: 2, status: "pending" },
    ]);
    const next = db
      .prepare(
        `INSERT INTO outbox (channel, target_id, event_id, event_type, device_uid, body, next_at,
                             status, created_at)
         VALUES ('push', 7, 1, 'alarm', 'van-2', '{}', 1, 'pending', 1) RETURNING id`,
      )
      .pluck()
      .get();
    expect(next).toBe(4); // a push row for event 1 beside the webhook's: targets differ by channel
    db.close();
  });
});
