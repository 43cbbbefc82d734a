import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { PositionsReply } from "../../protocol/index.ts";
import { backupDatabase } from "../../server/stores/sqlite/backup.ts";
import { openDatabase } from "../../server/stores/sqlite/database.ts";
import {
  connectDevice,
  report,
  startTestLocus,
  type DeviceSocket,
  type TestLocus,
} from "../support/locus.ts";

/**
 * `locus backup` and `locus restore` (issue #13), run as an admin runs them: the real CLI in its
 * own process, against a real server's SQLite file while 200 devices stream into it.
 */
const DEVICES = 200;
const REPORT_EVERY_MS = 500;
const STREAM_BEFORE_MS = 2_000;
const STREAM_AFTER_MS = 1_000;
/** Old history of one device, so that the copy takes several steps while commits land. */
const ARCHIVE_ROWS = 150_000;

let dir: string;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  rmSync(dir, { recursive: true, force: true });
});

/** `npm run locus -- …`; resolves with the exit code and both outputs, whatever the code. */
function locusCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [
    "--import",
    "tsx",
    "server/transports/cli/locus.ts",
    ...args,
  ]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A database with an archive device's old history, as a long-running installation has. */
function seededDatabase(file: string, rows = ARCHIVE_ROWS): void {
  const db = openDatabase(file);
  const { lastInsertRowid: device } = db
    .prepare("INSERT INTO devices (uid, created_at) VALUES ('archive', 0)")
    .run();
  const insert = db.prepare(
    "INSERT INTO positions (device, ts, lat, lon, received_at) VALUES (?, ?, ?, 13.4, 0)",
  );
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(device, 1_600_000_000_000 + i * 1000, 52 + i * 1e-6);
  })();
  db.close();
}

describe("backup and restore", () => {
  it("backs up while 200 devices stream; the restored copy holds every position acked before the backup started", async () => {
    dir = mkdtempSync(join(tmpdir(), "locus-backup-"));
    const dbPath = join(dir, "locus.db");
    seededDatabase(dbPath);
    const server = await startTestLocus({}, { db: dbPath });
    cleanup.push(() => server.stop());

    const ids = Array.from({ length: DEVICES }, (_, i) => `dev-${String(i).padStart(3, "0")}`);
    const sockets: DeviceSocket[] = await Promise.all(
      ids.map((id) => connectDevice(server.url, id)),
    );
    cleanup.push(() => sockets.forEach((s) => s.close()));
    /** Every ack as it arrives, in order: `${deviceId}|${ts}`. */
    const acked: string[] = [];
    let streaming = true;
    const base = Date.now() - 60_000;
    const streams = sockets.map(async (socket, i) => {
      await sleep((i * REPORT_EVERY_MS) / DEVICES); // spread over the interval, as a fleet is
      for (let k = 0; streaming; k++) {
        const ts = base + k * REPORT_EVERY_MS;
        const ack = await report(socket, { ts, lat: 52.5 + k * 1e-5, lon: 13.4 + i * 1e-3 });
        expect(ack).toMatchObject({ ok: true, accepted: 1 });
        acked.push(`${ids[i]}|${ts}`);
        await sleep(REPORT_EVERY_MS);
      }
    });

    await sleep(STREAM_BEFORE_MS);
    const beforeBackup = new Set(acked);
    const backupPath = join(dir, "backups", "nightly.db");
    mkdirSync(join(dir, "backups"));
    const backup = await locusCli("backup", backupPath, "--db", dbPath);
    const duringBackup = acked.length - beforeBackup.size;
    await sleep(STREAM_AFTER_MS);
    streaming = false;
    await Promise.all(streams);

    expect(backup.stderr).toContain("100%");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(
      new RegExp(
        `backup written to .*nightly\\.db: ${DEVICES + 1} devices, \\d+ positions, .* integrity_check ok`,
      ),
    );
    // Ingest never stopped: acks kept coming while the backup ran, and after it.
    expect(duringBackup).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(beforeBackup.size + duringBackup);
    // Only the finished backup carries a name; no temp file is left beside it.
    expect(readdirSync(join(dir, "backups"))).toEqual(["nightly.db"]);

    const restoredPath = join(dir, "restored", "locus.db");
    mkdirSync(join(dir, "restored"));
    const restore = await locusCli("restore", backupPath, "--db", restoredPath);
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`restored to ${restoredPath}`);

    const restored = await startTestLocus({}, { db: restoredPath });
    cleanup.push(() => restored.stop());
    const found = new Map<string, number>();
    for (const id of ids) {
      const reply = (await restored
        .fetch(`/api/devices/${id}/positions?flagged=include&limit=10000`)
        .then((r) => r.json())) as PositionsReply;
      expect(reply.next).toBeNull();
      for (const p of reply.positions) {
        const key = `${id}|${p.ts}`;
        found.set(key, (found.get(key) ?? 0) + 1);
      }
    }
    const missing = [...beforeBackup].filter((key) => found.get(key) !== 1);
    expect(missing).toEqual([]);
    // Nothing the devices did not send, nothing twice.
    const sent = new Set(acked);
    expect([...found].filter(([key, n]) => !sent.has(key) || n !== 1)).toEqual([]);
    const db = new Database(restored.db, { readonly: true });
    cleanup.push(() => db.close());
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(
      db
        .prepare(
          "SELECT count(*) FROM positions p JOIN devices d ON d.id = p.device WHERE d.uid = 'archive'",
        )
        .pluck()
        .get(),
    ).toBe(ARCHIVE_ROWS);
  }, 60_000); // child processes (tsx) start slowly on 2 busy cores

  it("restore refuses a database a server is using, an existing one without --force, and a damaged backup", async () => {
    dir = mkdtempSync(join(tmpdir(), "locus-restore-"));
    const server: TestLocus = await startTestLocus({}, { db: join(dir, "live.db") });
    cleanup.push(() => server.stop());
    const device = await connectDevice(server.url, "truck-17");
    cleanup.push(() => device.close());
    await report(device, { ts: Date.now() - 1000, lat: 52.5, lon: 13.4 });
    const backupPath = join(dir, "copy.db");
    expect((await locusCli("backup", backupPath, "--db", server.db)).code).toBe(0);

    const inUse = await locusCli("restore", backupPath, "--db", server.db, "--force");
    expect(inUse.code).toBe(2);
    expect(inUse.stderr).toContain(`restore: --db ${server.db} is in use`);

    const other = join(dir, "other.db");
    openDatabase(other).close();
    const exists = await locusCli("restore", backupPath, "--db", other);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toContain(`restore: --db ${other} already exists; pass --force`);
    // Stopped (here: never started) is fine with --force; a stale -wal beside it is removed.
    writeFileSync(`${other}-wal`, "stale");
    const forced = await locusCli("restore", backupPath, "--db", other, "--force");
    expect(forced.stderr).toBe("");
    expect(forced.stdout).toContain("1 devices, 1 positions");
    expect(existsSync(`${other}-wal`)).toBe(false);

    const newer = join(dir, "newer.db");
    const db = new Database(backupPath);
    await db.backup(newer);
    db.close();
    const future = new Database(newer);
    future.pragma("user_version = 99");
    future.close();
    const tooNew = await locusCli("restore", newer, "--db", join(dir, "fresh.db"));
    expect(tooNew.stderr).toContain("has schema version 99, newer than this Locus");

    const junk = join(dir, "junk.db");
    writeFileSync(junk, "not a database".repeat(1000));
    const notDb = await locusCli("restore", junk, "--db", join(dir, "fresh.db"));
    expect(notDb.code).toBe(2);
    expect(notDb.stderr).toContain(`restore: FILE ${junk} cannot be read as a SQLite database`);
    // Nothing was put in place by the refused restores, and no temp file is left.
    expect(existsSync(join(dir, "fresh.db"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 60_000); // child processes (tsx) start slowly on 2 busy cores

  it("finishes a copy of one snapshot while another connection commits between every step", async () => {
    // Without one read snapshot, SQLite restarts the copy after each foreign commit, forever.
    dir = mkdtempSync(join(tmpdir(), "locus-backup-"));
    const dbPath = join(dir, "locus.db");
    seededDatabase(dbPath, 20_000);
    const writer = openDatabase(dbPath);
    cleanup.push(() => writer.close());
    const insert = writer.prepare(
      "INSERT INTO positions (device, ts, lat, lon, received_at) VALUES (1, ?, 52, 13, 0)",
    );
    let ts = 1_700_000_000_000;
    let steps = 0;

    const summary = await backupDatabase(dbPath, join(dir, "copy.db"), () => {
      // Between every two steps of the copy, the other connection commits a position.
      insert.run(ts++);
      if (++steps > 1000) throw new Error("the copy keeps restarting");
    });

    expect(steps).toBeGreaterThan(2);
    expect(summary.positions).toBe(20_000);
  });
});
