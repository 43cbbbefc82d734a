import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrackReply } from "../../protocol/history.ts";
import type { Position } from "../../protocol/index.ts";
import { CHUNK_MS } from "../../server/stores/ports.ts";
import { historyTrack } from "../../simulator/history-track.ts";
import {
  connectDevice,
  report,
  signIn,
  startTestLocus,
  type DeviceSocket,
  type TestLocus,
} from "../support/locus.ts";
import { storedFixes, storeValue } from "../support/test-db.ts";
import { maxDeviation, vertexCount } from "../support/track-check.ts";

// One day of a car at 0.5 Hz, three days ago (hours long settled, so the builder takes them),
// sent through the device socket as a tracker uploads a backlog.
const DAY = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 3 * 86_400_000;
const HOLE = { from: DAY + 10 * CHUNK_MS, to: DAY + 10 * CHUNK_MS + 1_200_000 }; // 20 min, no fixes
const JUMP_AT = DAY + 15 * CHUNK_MS; // from here on, 8 km further north (reached in 100 s)
const generated = [
  ...historyTrack({ seed: 3, startTs: DAY, days: 1, intervalMs: 2000, offChance: 0 }),
];
const fixes: Position[] = generated
  .filter((f) => f.ts < HOLE.from || f.ts > HOLE.to)
  .filter((f) => f.ts <= JUMP_AT || f.ts >= JUMP_AT + 100_000)
  .map((f) => (f.ts > JUMP_AT ? { ...f, lat: f.lat + 0.072 } : f));

let server: TestLocus;
let socket: DeviceSocket;

async function send(batch: Position[]) {
  for (let i = 0; i < batch.length; i += 1000) {
    const ack = await report(socket, batch.slice(i, i + 1000));
    expect(ack).toMatchObject({ ok: true });
  }
}

async function track(query: string, cookie?: string) {
  const res = await server.fetch(
    `/api/devices/car/track?${query}`,
    cookie ? { headers: { cookie } } : {},
  );
  return { status: res.status, body: (await res.json()) as TrackReply, headers: res.headers };
}

/** Plausible fixes as stored, read through a separate connection. */
async function stored(from = 0, to = Number.MAX_SAFE_INTEGER) {
  const fixes = await storedFixes(server.db, "car");
  return fixes.filter((f) => f.flag === null && f.ts >= from && f.ts <= to);
}

beforeAll(async () => {
  server = await startTestLocus();
  socket = await connectDevice(server.url, "car");
  await send(fixes);
  // One implausible fix (far too inaccurate) in the morning: stored, flagged, never drawn.
  await send([{ ts: DAY + 8 * CHUNK_MS + 1, lat: 10, lon: 10, accuracy: 5000 }]);
  await server.locus.levels.whenIdle();
}, 60_000);
afterAll(async () => {
  socket.close();
  await server.dispose();
});

const whole = `from=${DAY}&to=${DAY + 86_400_000 - 1}`;

describe("GET /api/devices/:id/track", () => {
  it("gives the stored fixes themselves when zoomed in far enough", async () => {
    const from = DAY + 8 * CHUNK_MS;
    const to = from + 600_000;
    const rows = await stored(from, to);
    const lats = rows.map((r) => r.lat);
    const lons = rows.map((r) => r.lon);
    const bbox = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
    const { status, body, headers } = await track(
      `from=${from}&to=${to}&zoom=22&bbox=${bbox.join(",")}`,
    );
    expect(status).toBe(200);
    expect(body.toleranceM).toBe(0);
    expect(body.segments.flat()).toEqual(
      rows.map((r) => [r.ts, r.lat, r.lon, r.speed, r.alt, r.course]),
    );
    expect(headers.get("server-timing")).toMatch(/total;dur=\d/);
  });

  it("answers the whole day at low zoom in a few thousand vertices, each fix within tolerance", async () => {
    const { status, body } = await track(`${whole}&zoom=12`);
    expect(status).toBe(200);
    const rows = await stored();
    expect(rows.length).toBeGreaterThan(40_000);
    expect(vertexCount(body.segments)).toBeLessThanOrEqual(5000);
    expect(vertexCount(body.segments)).toBeLessThan(rows.length / 10);
    expect(body.toleranceM).toBeGreaterThan(10);
    expect(maxDeviation(rows, body.segments)).toBeLessThanOrEqual(body.toleranceM * 1.001 + 0.1);
    // The flagged fix at (10, 10) is nowhere.
    expect(body.segments.flat().some((p) => p[1] === 10)).toBe(false);
  });

  it("breaks the line at a pause and at a jump, never drawing across them", async () => {
    for (const detail of ["zoom=8", "zoom=14", "tolerance=0"]) {
      const { body } = await track(`${whole}&${detail}`);
      expect(body.segments.map((s) => [s[0]![0], s.at(-1)![0]])).toEqual([
        [fixes[0]!.ts, fixes.findLast((f) => f.ts < HOLE.from)!.ts],
        [fixes.find((f) => f.ts > HOLE.to)!.ts, fixes.findLast((f) => f.ts <= JUMP_AT)!.ts],
        [fixes.find((f) => f.ts > JUMP_AT)!.ts, fixes.at(-1)!.ts],
      ]);
    }
  });

  it("clips to the view, keeping the fixes just outside so the line enters and leaves it", async () => {
    const rows = await stored(DAY, JUMP_AT);
    const midLat = (Math.min(...rows.map((r) => r.lat)) + Math.max(...rows.map((r) => r.lat))) / 2;
    const midLon = (Math.min(...rows.map((r) => r.lon)) + Math.max(...rows.map((r) => r.lon))) / 2;
    const box = {
      west: midLon - 0.002,
      south: midLat - 0.0012,
      east: midLon + 0.002,
      north: midLat + 0.0012,
    };
    const { body } = await track(
      `${whole}&zoom=19&bbox=${[box.west, box.south, box.east, box.north].join(",")}`,
    );
    const inside = (p: { lat: number; lon: number }) =>
      p.lat >= box.south && p.lat <= box.north && p.lon >= box.west && p.lon <= box.east;
    const insideTs = (await stored()).filter(inside).map((r) => r.ts);
    expect(insideTs.length).toBeGreaterThan(20);
    // Raw at this zoom: every fix in view, and per segment at most one fix outside at each end.
    expect(body.toleranceM).toBe(0);
    const returned = body.segments.flat();
    expect(returned.filter((p) => inside({ lat: p[1], lon: p[2] })).map((p) => p[0])).toEqual(
      insideTs,
    );
    expect(returned.length).toBeLessThanOrEqual(insideTs.length + 2 * body.segments.length);
    for (const s of body.segments) {
      const outside = s.map((p) => !inside({ lat: p[1], lon: p[2] }));
      expect(outside.slice(1, -1).filter(Boolean).length).toBeLessThanOrEqual(
        // a straight piece crossing a corner of the view may have both ends outside
        s.length > 2 ? 0 : 2,
      );
    }
  });

  it("shows a late backlog in an old hour once the background job has rebuilt it", async () => {
    const hour = DAY + 3 * CHUNK_MS; // the car was parked then
    const parked = (await stored(hour, hour + CHUNK_MS)).at(0)!;
    const excursion = Array.from({ length: 120 }, (_, i) => ({
      ts: hour + 1000 + i * 2000,
      lat: parked.lat + 0.02 * Math.sin((Math.PI * i) / 119),
      lon: parked.lon,
    }));
    await send(excursion);
    await server.locus.levels.whenIdle();
    expect(
      await storeValue(
        server.db,
        "SELECT count(*) FROM track_dirty WHERE chunk < 400000000 AND chunk * 3600000 < " +
          (Date.now() - 3 * CHUNK_MS),
      ),
    ).toBe(0);
    // The coarse levels themselves now hold the excursion's far point.
    expect(
      await storeValue(
        server.db,
        `SELECT max(lat) FROM track_levels WHERE level = 4 AND ts BETWEEN ${hour} AND ${hour + CHUNK_MS}`,
      ),
    ).toBeGreaterThan(parked.lat + 0.019);
    const { body } = await track(`${whole}&zoom=10`);
    expect(Math.max(...body.segments.flat().map((p) => p[1]))).toBeGreaterThan(parked.lat + 0.015);
  });

  it.each([
    ["zoom=23", /^zoom: must be a number from 0 to 22/],
    ["zoom=abc", /^zoom: /],
    ["tolerance=-1", /^tolerance: /],
    ["zoom=5&tolerance=10", /^tolerance: give either zoom or tolerance/],
    ["bbox=1,2,3", /^bbox: must be west,south,east,north/],
    ["bbox=10,50,9,51", /^bbox: /],
    ["bbox=10,-95,11,51", /^bbox: latitudes/],
    ["from=yesterday", /^from: must be epoch milliseconds/],
    [`from=${DAY + 10}&to=${DAY}`, /^from: must not be after to/],
  ])("refuses %s, naming the parameter", async (query, message) => {
    const res = await server.fetch(`/api/devices/car/track?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it("answers 404 alike for an unknown device and one not granted, 401 without a session", async () => {
    const res = await server.fetch("/api/admin/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "vera", role: "viewer", devices: ["other"] }),
    });
    const { password } = (await res.json()) as { password: string };
    const vera = await signIn(server.url, "vera", password);
    const notGranted = await track(whole, vera);
    const unknown = await server.fetch(`/api/devices/nobody/track?${whole}`);
    expect(notGranted.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(notGranted.body).toEqual({ error: { code: "not_found", message: 'no device "car"' } });
    const anonymous = await fetch(`${server.url}/api/devices/car/track?${whole}`);
    expect(anonymous.status).toBe(401);
  });
});
