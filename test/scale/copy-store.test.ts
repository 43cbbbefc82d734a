import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyStore, type CopyProgress } from "../../server/stores/copy-store.ts";
import { COPIED_TABLES } from "../../server/stores/copy-tables.ts";
import { PG_MIGRATIONS } from "../../server/stores/postgres/migrations.ts";
import { MIGRATIONS } from "../../server/stores/sqlite/migrations.ts";
import { seedHistory } from "../support/history.ts";
import { signIn, startTestLocus, type TestLocus } from "../support/locus.ts";
import { freePort, startPostgres, type LocalPostgres } from "../support/postgres.ts";
import { storeValue } from "../support/test-db.ts";

// `locus copy-store` and `locus migrate` (issue #13): a real SQLite installation, made by a real
// server, moved into a real PostgreSQL and served from there exactly as before.

let postgres: LocalPostgres;
/** The SQLite installation: written by a server, which is then stopped. */
let sqliteFile: string;
let viewerPassword: string;
let apiToken: string;
const DEVICES = ["van", "old-truck", "bike", "idle"];
const DAY = 86_400_000;

beforeAll(async () => {
  postgres = await startPostgres();
  const server = await startTestLocus();
  sqliteFile = server.db;
  await seedHistory(server); // "van": 500 live fixes, attributes on some, a 20 min gap
  const admin = (path: string, method: string, body?: unknown) =>
    server.fetch(`/api/admin${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  await admin("/groups", "POST", { name: "fleet" });
  await admin("/groups", "POST", { name: "spare" });
  await admin("/devices", "POST", { deviceId: "old-truck", name: "Old truck", groups: ["fleet"] });
  await admin("/devices", "POST", { deviceId: "bike", idOnly: true, groups: ["fleet"] });
  await admin("/devices", "POST", { deviceId: "idle", name: "Never moved" });
  // A removed device: its id is never given again, on either store.
  await admin("/devices", "POST", { deviceId: "gone" });
  await admin("/devices/gone", "DELETE");
  const viewer = await admin("/users", "POST", {
    name: "vera",
    role: "viewer",
    devices: ["van"],
    groups: ["fleet"],
  });
  viewerPassword = ((await viewer.json()) as { password: string }).password;
  await admin("/users", "POST", { name: "otto", role: "admin", devices: "all" });
  // Old history over three months (three partitions), with a teleport the plausibility check flags.
  const start = Date.now() - 95 * DAY;
  const features = Array.from({ length: 3000 }, (_, i) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: [10 + i * 1e-4 + (i === 1500 ? 40 : 0), 50] },
    properties: { time: start + i * 45 * 60_000, speed: 10, battery: 50 + (i % 50) },
  }));
  for (const device of ["old-truck", "bike"]) {
    const res = await server.fetch(`/api/devices/${device}/import?format=geojson`, {
      method: "POST",
      body: JSON.stringify({ type: "FeatureCollection", features }),
    });
    expect(res.status).toBe(200);
  }
  await server.locus.levels.drain();
  // Signed in as vera: a session to carry over; and an API token for the admin.
  await signIn(server.url, "vera", viewerPassword);
  apiToken = (await runLocus("user", "token", "admin", "--db", sqliteFile)).trim();
  await server.stop();
  // The installation really holds what the copy must carry.
  expect(await storeValue(sqliteFile, "SELECT count(*) FROM positions")).toBe(6500);
  expect(
    await storeValue(sqliteFile, "SELECT count(*) FROM positions WHERE flag IS NOT NULL"),
  ).toBeGreaterThan(0);
  expect(await storeValue(sqliteFile, "SELECT count(*) FROM track_levels")).toBeGreaterThan(0);
}, 120_000);

afterAll(() => postgres?.stop());

async function adminQuery(text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh, empty PostgreSQL database; its URL. */
async function freshDatabase(): Promise<string> {
  const name = `copy_${randomBytes(5).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** `npm run locus -- …`: stdout, or the failure with its stderr and exit code. */
async function runLocus(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    "--import",
    "tsx",
    "server/transports/cli/locus.ts",
    ...args,
  ]);
  return stdout;
}

async function get(server: TestLocus, path: string, headers: Record<string, string> = {}) {
  const res = await server.fetch(path, { headers });
  return { status: res.status, body: await res.json() };
}

describe("locus copy-store", () => {
  it("moves every table, ids and all: a server on PostgreSQL answers as the SQLite one did", async () => {
    const url = await freshDatabase();
    const out = await runLocus("copy-store", "--from", sqliteFile, "--to", url, "--json");
    const result = JSON.parse(out) as { resumed: boolean; tables: Record<string, number> };
    expect(result.resumed).toBe(false);
    expect(Object.keys(result.tables).sort()).toEqual([...COPIED_TABLES].sort());
    expect(result.tables.positions).toBe(6500);

    const before = await startTestLocus({}, { db: sqliteFile });
    const after = await startTestLocus({}, { db: url });
    try {
      const paths = [
        "/api/devices",
        "/api/admin/devices",
        "/api/admin/groups",
        "/api/admin/users",
        ...DEVICES.flatMap((d) => [
          `/api/admin/devices/${d}`,
          `/api/devices/${d}/positions?from=0&limit=10000`,
          `/api/devices/${d}/track?from=0&to=${Date.now()}&zoom=8`,
          `/api/devices/${d}/summary?from=0&to=${Date.now()}`,
        ]),
      ];
      for (const path of paths) {
        const [a, b] = await Promise.all([get(before, path), get(after, path)]);
        expect({ path, ...b }).toEqual({ path, ...a });
        expect(a.status, path).toBe(200);
      }
      // Vera signs in with the same password and sees the same devices; the API token works.
      const vera = await Promise.all(
        [before, after].map(async (s) => {
          const cookie = await signIn(s.url, "vera", viewerPassword);
          return (await get(s, "/api/devices", { cookie })).body;
        }),
      );
      expect(vera[1]).toEqual(vera[0]);
      expect((vera[1] as { devices: unknown[] }).devices).toHaveLength(3);
      const bearer = { cookie: "", authorization: `Bearer ${apiToken}` };
      expect((await get(after, "/api/admin/users", bearer)).status).toBe(200);
      // The next device gets a fresh id: past "gone"'s, which was removed.
      await after.fetch("/api/admin/devices", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ deviceId: "newcomer" }),
      });
      const ids = await adminRows(url, "SELECT uid, id FROM devices ORDER BY id");
      const sqliteIds = await storeValue(sqliteFile, "SELECT max(id) FROM devices");
      expect(ids.at(-1)).toEqual({ uid: "newcomer", id: sqliteIds + 2 });
    } finally {
      await before.stop();
      await after.stop();
    }
  });

  it("a copy stopped midway resumes where it stopped and ends with exact counts", async () => {
    const url = await freshDatabase();
    const abort = new AbortController();
    const seen: CopyProgress[] = [];
    await expect(
      copyStore({
        from: sqliteFile,
        to: url,
        pageSize: 400,
        signal: abort.signal,
        onProgress(p) {
          seen.push(p);
          if (p.table === "positions" && p.copied > p.total / 2) abort.abort();
        },
      }),
    ).rejects.toThrow(/aborted/);
    const partial = await storeValue(url, "SELECT count(*) FROM positions");
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(6500);

    const resumed = await copyStore({ from: sqliteFile, to: url, pageSize: 400 });
    expect(resumed.resumed).toBe(true);
    const small = Object.entries(resumed.tables)
      .filter(([table]) => table !== "positions")
      .reduce((sum, [, rows]) => sum + rows, 0);
    // Only the positions the first run did not commit were read and written again.
    expect(resumed.copied).toBe(small + 6500 - partial);
    expect(await storeValue(url, "SELECT count(*) FROM positions")).toBe(6500);
    expect(
      await storeValue(url, "SELECT count(*) FROM (SELECT DISTINCT device, ts FROM positions) k"),
    ).toBe(6500);
    // Running it again on a complete copy writes no position and still checks out; without
    // --json the progress goes to stderr (a line per 10 % when it is not a terminal).
    const again = await promisify(execFile)(process.execPath, [
      "--import",
      "tsx",
      "server/transports/cli/locus.ts",
      "copy-store",
      "--from",
      sqliteFile,
      "--to",
      url,
    ]);
    expect(again.stdout).toContain(`resumed copy ${sqliteFile} to ${url}: ${small} rows written`);
    expect(again.stderr).toMatch(
      new RegExp(`copying 100% ${small} of ${small} rows, \\d+ rows/s, done \\(\\w+\\)\n$`),
    );
  });

  it("reports the tables whose counts differ", async () => {
    const url = await freshDatabase();
    await copyStore({ from: sqliteFile, to: url });
    // A row the source does not have (another writer on the target).
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      "INSERT INTO positions (device, ts, lat, lon, received_at) SELECT device, ts - 1, lat, lon, received_at FROM positions LIMIT 1",
    );
    await client.end();
    await expect(copyStore({ from: sqliteFile, to: url })).rejects.toThrow(
      "copy-store: the copy does not match its source: positions (--from 6500, --to 6501)",
    );
  });

  it("refuses a target that holds another installation", async () => {
    const url = await freshDatabase();
    const other = await startTestLocus({}, { db: url }); // its own first-run admin
    await other.stop();
    await expect(runLocus("copy-store", "--from", sqliteFile, "--to", url)).rejects.toThrow(
      /copy-store: --to already holds another installation \(its user 1 "admin" created .*\); copy into an empty database/,
    );
    expect(await storeValue(url, "SELECT count(*) FROM positions")).toBe(0);
  });
});

describe("locus migrate", () => {
  it("migrates a fresh PostgreSQL database and prints the versions", async () => {
    const url = await freshDatabase();
    expect(await runLocus("migrate", "--db", url)).toContain(
      `migrated from schema version 0 to ${PG_MIGRATIONS.length}`,
    );
    expect(await runLocus("migrate", "--db", url)).toContain(
      `is at schema version ${PG_MIGRATIONS.length}: nothing to migrate`,
    );
    expect(JSON.parse(await runLocus("migrate", "--db", sqliteFile, "--json"))).toEqual({
      db: sqliteFile,
      from: MIGRATIONS.length,
      to: MIGRATIONS.length,
      backup: null,
    });
    // A mistyped file is not made into a new, empty database.
    await expect(runLocus("migrate", "--db", `${sqliteFile}.typo`)).rejects.toThrow(
      "--db (LOCUS_DB): " + `${sqliteFile}.typo does not exist`,
    );
  });

  it("fails fast, naming --db, when the database is unreachable or newer than this Locus", async () => {
    const port = await freePort();
    await expect(
      runLocus("migrate", "--db", `postgres://locus:secret@127.0.0.1:${port}/x`),
    ).rejects.toThrow(
      /locus: migrate: --db \(LOCUS_DB\): cannot use postgres:\/\/locus:\*\*\*@.*ECONNREFUSED/,
    );
    const url = await freshDatabase();
    await runLocus("migrate", "--db", url);
    await adminRows(url, "UPDATE locus_schema SET version = version + 1");
    await expect(runLocus("migrate", "--db", url)).rejects.toThrow(
      /--db \(LOCUS_DB\).*newer than this Locus/,
    );
  });
});

async function adminRows(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [
          k,
          typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v,
        ]),
      ),
    );
  } finally {
    await client.end();
  }
}
