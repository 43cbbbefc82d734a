import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImportReply, StopsReply } from "../../protocol/index.ts";
import { startGpxReplay } from "../../simulator/gpx-replay.ts";
import { startTestLocus, storedRows, type TestLocus } from "../support/locus.ts";

const run = promisify(execFile);
let server: TestLocus;
let dir: string;
const T0 = Date.UTC(2024, 5, 1, 9);

/** A recorded GPX track: `count` points `stepS` seconds apart, 10 m further north each time. */
function gpxFile(name: string, count: number, stepS = 1): string {
  const points = Array.from({ length: count }, (_, i) => {
    const time = new Date(T0 + i * stepS * 1000).toISOString();
    return `<trkpt lat="${(48 + i * 9e-5).toFixed(6)}" lon="11.5"><ele>500</ele><time>${time}</time></trkpt>`;
  });
  const path = join(dir, name);
  writeFileSync(
    path,
    `<?xml version="1.0"?>\n<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">\n<trk><trkseg>\n${points.join("\n")}\n</trkseg></trk></gpx>\n`,
  );
  return path;
}

beforeAll(async () => {
  server = await startTestLocus();
  dir = mkdtempSync(join(tmpdir(), "locus-tools-"));
});
afterAll(async () => {
  await server.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run locus -- import", () => {
  const locus = (...args: string[]) =>
    run(process.execPath, [
      "--import",
      "tsx",
      "server/transports/cli/locus.ts",
      ...args,
      "--db",
      server.db,
    ]);

  it("imports a GPX file into the database with progress, and a second run stores nothing new", async () => {
    const file = gpxFile("ride.gpx", 2000);
    const first = await locus("import", "cli-ride", file, "--json");
    expect(JSON.parse(first.stdout) as ImportReply).toEqual({
      deviceId: "cli-ride",
      accepted: 2000,
      duplicates: 0,
      rejected: 0,
      errors: [],
    });
    expect(first.stderr).toMatch(/importing .*ride\.gpx 100% \(0\.\d of 0\.\d MB\)/);
    const again = await locus("import", "cli-ride", file);
    expect(again.stdout).toMatch(/^0 stored, 2000 already there, 0 rejected/);
    expect(await storedRows(server.db, "cli-ride")).toHaveLength(2000);
    // The running server sees the device the CLI created.
    const stops = await server.fetch("/api/devices/cli-ride/stops");
    expect(stops.status).toBe(200);
    expect(((await stops.json()) as StopsReply).stops).toEqual([]);
  });

  it("fails with exit code 1 and the line for a broken file", async () => {
    const file = join(dir, "broken.gpx");
    writeFileSync(file, `<gpx>\n<trk><trkseg>\n<trkpt lon="1"/></trkseg></trk></gpx>`);
    const error = (await locus("import", "cli-broken", file).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toContain("broken.gpx: line 3: <trkpt> lacks lat");
  });
});

describe("simulator GPX replay", () => {
  it("replays a recorded track as a live device, now, N times faster", async () => {
    const file = gpxFile("walk.gpx", 41, 1); // 40 s recorded
    const startedAt = Date.now();
    const replay = startGpxReplay({ url: server.url, deviceId: "replayed", file, speedup: 20 });
    const summary = await replay.done;
    const elapsed = Date.now() - startedAt;
    expect(summary).toMatchObject({ sent: 41, skipped: 0, recordedMs: 40_000, flushed: true });
    expect(summary.stats.accepted).toBe(41);
    // 40 s at 20× is 2 s.
    expect(elapsed).toBeGreaterThanOrEqual(1_950);
    expect(elapsed).toBeLessThan(6_000);
    const rows = await storedRows(server.db, "replayed");
    expect(rows.map((r) => r.lat)).toEqual(
      Array.from({ length: 41 }, (_, i) => Number((48 + i * 9e-5).toFixed(6))),
    );
    // Shifted to now and compressed with the playback: 1 s recorded is 50 ms.
    expect(Math.abs(rows[0]!.ts - startedAt)).toBeLessThan(1_000);
    expect(rows[40]!.ts - rows[0]!.ts).toBe(2_000);
  });

  it("npm run simulate -- --gpx plays a file through the CLI and stops at its end", async () => {
    const file = gpxFile("drive.gpx", 11, 2);
    const { stdout } = await run(process.execPath, [
      "--import",
      "tsx",
      "simulator/cli.ts",
      "--gpx",
      file,
      "--speedup",
      "40",
      "--url",
      server.url,
    ]);
    expect(stdout).toContain("replaying");
    expect(stdout).toMatch(/replayed 11 points \(20\.0 s recorded\) in 0\.\d s: 11 accepted/);
    expect(await storedRows(server.db, "gpx-drive")).toHaveLength(11);
  });

  it("refuses a bad --speedup by name", async () => {
    const error = (await run(process.execPath, [
      "--import",
      "tsx",
      "simulator/cli.ts",
      "--gpx",
      "x.gpx",
      "--speedup",
      "0",
    ]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/--speedup: must be a number above 0/);
  });
});
