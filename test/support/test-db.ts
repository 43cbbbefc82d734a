import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { inject } from "vitest";

/**
 * One suite, two stores: in the `postgres` test project, which starts a PostgreSQL server (see
 * test/support/postgres-global.ts), every test server gets a fresh database of its own there;
 * elsewhere a SQLite file in a fresh temp folder.
 */
const testPostgres = (): string | undefined => inject("testPostgres");

export interface TestDatabase {
  /** What `--db` takes: the SQLite file or the database URL. */
  db: string;
  /** Delete it (the server using it must be stopped). */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const server = testPostgres();
  if (server) {
    const name = `locus_test_${randomBytes(6).toString("hex")}`;
    await adminQuery(server, `CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    return {
      db: url.toString(),
      drop: () => adminQuery(server, `DROP DATABASE ${name} WITH (FORCE)`),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "locus-test-"));
  return {
    db: join(dir, "locus.db"),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function adminQuery(server: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export interface StoredFix {
  ts: number;
  lat: number;
  lon: number;
  speed: number | null;
  course: number | null;
  alt: number | null;
  accuracy: number | null;
  battery: number | null;
  attributes: Record<string, unknown> | null;
  flag: string | null;
}

const FIXES_OF_DEVICE = (param: string) => `
  SELECT p.ts, p.lat, p.lon, p.speed, p.course, p.alt, p.accuracy, p.battery,
         p.attributes${param === "?" ? "" : "::text AS attributes"}, p.flag
  FROM positions p JOIN devices d ON d.id = p.device WHERE d.uid = ${param} ORDER BY p.ts`;

/**
 * Every column of a device's rows as stored, attributes parsed: read through a connection of the
 * test's own, not through the server.
 */
export async function storedFixes(db: string, deviceId: string): Promise<StoredFix[]> {
  let rows: (Omit<StoredFix, "attributes"> & { attributes: string | null })[];
  if (db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      rows = (await client.query(FIXES_OF_DEVICE("$1"), [deviceId])).rows.map((r) => ({
        ...r,
        ts: Number(r.ts),
      }));
    } finally {
      await client.end();
    }
  } else {
    const file = new Database(db, { readonly: true });
    try {
      rows = file.prepare(FIXES_OF_DEVICE("?")).all(deviceId) as typeof rows;
    } finally {
      file.close();
    }
  }
  return rows.map((r) => ({
    ...r,
    attributes:
      r.attributes === null ? null : (JSON.parse(r.attributes) as StoredFix["attributes"]),
  }));
}

/** A device's stored rows, time and latitude only. */
export async function storedRows(
  db: string,
  deviceId: string,
): Promise<{ ts: number; lat: number }[]> {
  return (await storedFixes(db, deviceId)).map(({ ts, lat }) => ({ ts, lat }));
}

/** The first column of the first row of a query that reads the same in SQLite and PostgreSQL. */
export async function storeValue(db: string, sql: string): Promise<number> {
  if (db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const { rows } = await client.query({ text: sql, rowMode: "array" });
      return Number(rows[0]![0]);
    } finally {
      await client.end();
    }
  }
  const file = new Database(db, { readonly: true });
  try {
    return file.prepare(sql).pluck().get() as number;
  } finally {
    file.close();
  }
}

/** Everything the database holds, as text: to check a secret is stored nowhere in the clear. */
export async function storeContents(db: string): Promise<string> {
  if (!db.startsWith("postgres")) {
    const wal = existsSync(`${db}-wal`) ? readFileSync(`${db}-wal`).toString("latin1") : "";
    return readFileSync(db).toString("latin1") + wal;
  }
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
    );
    let text = "";
    for (const { name } of tables) {
      const { rows } = await client.query(`SELECT t::text AS row FROM ${name} t`);
      text += rows.map((r) => r.row).join("\n");
    }
    return text;
  } finally {
    await client.end();
  }
}
