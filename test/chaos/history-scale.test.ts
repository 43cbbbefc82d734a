import type { ChildProcess } from "node:child_process";
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImportReply } from "../../protocol/index.ts";
import { silentLogger } from "../../server/logger.ts";
import type { NewPosition } from "../../server/stores/ports.ts";
import { openSqliteStores } from "../../server/stores/sqlite/index.ts";
import { signIn } from "../support/locus.ts";
import { freePort, spawnServer } from "../support/server-process.ts";

/**
 * History at scale, against a server in its own process so its resident memory (VmRSS) can be
 * watched: a million-point export streams out, and a 100 MB GPX streams in, each without the
 * server's memory growing anywhere near the size of the file. The server runs with its V8 heap
 * capped at 96 MB: holding either file whole (or its text, twice its size) would kill it.
 */
const HEAP_CAP_MB = 96;
const POINTS = 1_000_000;
const IMPORT_MB = 100;
const ADMIN_PASSWORD = "scale-admin-pass";
const T0 = Date.UTC(2025, 0, 1);

const dir = mkdtempSync(join(tmpdir(), "locus-scale-"));
const dbPath = join(dir, "locus.db");
let server: ChildProcess;
let url: string;
let cookie: string;
/** The server's stderr, passed through and kept: it must show no warnings. */
let serverErrors = "";

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Samples the server's RSS every 50 ms while `work` runs; returns the work's result and the peak. */
async function watchRss<T>(
  work: () => Promise<T>,
): Promise<{ result: T; before: number; peak: number }> {
  const before = rssMb(server.pid!);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 50);
  try {
    const result = await work();
    return { result, before, peak: Math.max(peak, rssMb(server.pid!)) };
  } finally {
    clearInterval(timer);
  }
}

beforeAll(async () => {
  // A million fixes written straight into the file (ingesting them over sockets is not what is
  // being tested here, and would take minutes).
  const stores = openSqliteStores(
    { file: dbPath, durability: "normal", commitDelayMs: 0, commitMaxRows: 10_000, worker: false },
    silentLogger,
  );
  for (let start = 0; start < POINTS; start += 10_000) {
    const rows: NewPosition[] = [];
    for (let i = start; i < start + 10_000; i++) {
      rows.push({
        deviceId: "big",
        position: {
          ts: T0 + i * 1000,
          lat: 48 + (i % 50_000) * 1e-5,
          lon: 11 + i * 1e-7,
          speed: 9,
          alt: 500,
        },
        receivedAt: T0,
        flag: null,
      });
    }
    await stores.positions.append(rows);
  }
  await stores.positions.append([
    { deviceId: "into", position: { ts: T0, lat: 1, lon: 1 }, receivedAt: T0, flag: null },
  ]);
  await stores.close();

  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = await spawnServer({
    port,
    db: dbPath,
    nodeArgs: [`--max-old-space-size=${HEAP_CAP_MB}`],
    env: { LOCUS_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stderr: "pipe",
  });
  server.stderr!.on("data", (chunk: Buffer) => {
    serverErrors += chunk.toString();
    process.stderr.write(chunk);
  });
  cookie = await signIn(url, "admin", ADMIN_PASSWORD);
}, 120_000);

afterAll(() => {
  // e.g. a listener leak while waiting for the socket to drain thousands of times.
  expect(serverErrors).not.toMatch(/Warning/);
  server?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("history at scale", () => {
  it.each(["gpx", "geojson"])(
    "streams a %s export of a million points: first bytes at once, server memory flat",
    async (format) => {
      const started = performance.now();
      const { result, before, peak } = await watchRss(async () => {
        const res = await fetch(`${url}/api/devices/big/export?format=${format}`, {
          headers: { cookie },
        });
        expect(res.status).toBe(200);
        let firstByteMs = 0;
        let bytes = 0;
        let points = 0;
        let carry = "";
        const decoder = new TextDecoder();
        // Counted as it arrives, never held: the client must not be what fills memory either.
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          if (bytes === 0) firstByteMs = performance.now() - started;
          bytes += chunk.length;
          const text = carry + decoder.decode(chunk, { stream: true });
          const marker = format === "gpx" ? "<trkpt " : '"Feature"';
          points += text.split(marker).length - 1;
          carry = text.slice(-marker.length + 1);
        }
        return { firstByteMs, bytes, points, totalMs: performance.now() - started };
      });
      console.log(
        `${format} export: ${POINTS} points, ${(result.bytes / 1e6).toFixed(0)} MB in ${(result.totalMs / 1000).toFixed(1)} s, ` +
          `first bytes after ${result.firstByteMs.toFixed(0)} ms; server RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MB`,
      );
      expect(result.points).toBe(POINTS);
      expect(result.bytes).toBeGreaterThan(100e6);
      expect(result.firstByteMs).toBeLessThan(result.totalMs / 10);
      // The heap cap is the decisive check (holding the file would exceed it); RSS also moves with
      // garbage not yet collected, so its bound is looser.
      expect(peak - before).toBeLessThan(100);
    },
    120_000,
  );

  it("summarises a million points in one pass, memory flat", async () => {
    const started = performance.now();
    const { result, before, peak } = await watchRss(async () => {
      const res = await fetch(`${url}/api/devices/big/summary`, { headers: { cookie } });
      return (await res.json()) as { positions: number; distanceM: number };
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `summary: ${result.positions} points in ${seconds.toFixed(1)} s; ` +
        `server RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MB`,
    );
    expect(result.positions).toBe(POINTS);
    expect(peak - before).toBeLessThan(100);
  }, 120_000);

  it(`imports a ${IMPORT_MB} MB GPX streamed to the server, memory flat, and again as all duplicates`, async () => {
    const file = join(dir, "big.gpx");
    const count = await writeBigGpx(file, IMPORT_MB * 1024 * 1024);
    const size = statSync(file).size;
    const upload = () =>
      fetch(`${url}/api/devices/into/import?format=gpx`, {
        method: "POST",
        headers: { cookie, "content-length": String(size) },
        body: Readable.toWeb(createReadStream(file)) as ReadableStream,
        duplex: "half",
      } as RequestInit).then(async (res) => {
        expect(res.status).toBe(200);
        return (await res.json()) as ImportReply;
      });
    const started = performance.now();
    const first = await watchRss(upload);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `import: ${(size / 1e6).toFixed(0)} MB, ${count} points in ${seconds.toFixed(1)} s; ` +
        `server RSS ${first.before.toFixed(0)} → peak ${first.peak.toFixed(0)} MB`,
    );
    expect(first.result).toMatchObject({ accepted: count, duplicates: 0, rejected: 0 });
    expect(first.peak - first.before).toBeLessThan(100);
    const again = await upload();
    expect(again).toMatchObject({ accepted: 0, duplicates: count, rejected: 0 });
  }, 300_000);
});

/** A GPX file of about `bytes`, written in 1 MB pieces; returns its number of points. */
async function writeBigGpx(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r()));
  await write(
    `<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="scale test" xmlns="http://www.topografix.com/GPX/1/1">\n<trk><name>big</name><trkseg>\n`,
  );
  let written = 0;
  let count = 0;
  const start = Date.UTC(2015, 0, 1);
  while (written < bytes) {
    let piece = "";
    while (piece.length < 1 << 20) {
      const ts = new Date(start + count * 1000).toISOString();
      piece += `<trkpt lat="${(47 + (count % 90_000) * 1e-5).toFixed(5)}" lon="${(9 + (count % 70_000) * 1e-5).toFixed(5)}"><ele>${400 + (count % 100)}</ele><time>${ts}</time><extensions><speed>8.5</speed></extensions></trkpt>\n`;
      count++;
    }
    await write(piece);
    written += piece.length;
  }
  await write("</trkseg></trk></gpx>\n");
  await new Promise((resolve) => out.end(resolve));
  return count;
}
