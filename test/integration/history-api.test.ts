import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PositionsReply } from "../../protocol/index.ts";
import {
  connectDevice,
  makePosition,
  report,
  startTestLocus,
  type TestLocus,
} from "../support/locus.ts";

let server: TestLocus;
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 3_600_000; // two hours ago, on a minute
const track = Array.from({ length: 250 }, (_, i) =>
  makePosition({ ts: T0 + i * 10_000, lat: 40 + i / 1e4 }),
);

beforeAll(async () => {
  server = await startTestLocus();
  const socket = await connectDevice(server.url, "tracker");
  // Sent shuffled: history must come back sorted whatever the arrival order.
  const shuffled = [...track].sort((a, b) => ((a.lat * 7919) % 1) - ((b.lat * 7919) % 1));
  expect(await report(socket, shuffled)).toMatchObject({ accepted: track.length });
  socket.close();
});
afterAll(() => server.dispose());

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await server.fetch(path);
  return { status: res.status, body: await res.json() };
}

describe("GET /api/devices/:id/positions", () => {
  it("returns a range sorted by time, bounds inclusive, epoch ms or ISO-8601", async () => {
    const from = T0 + 100_000;
    const to = T0 + 200_000;
    const byMs = await get(`/api/devices/tracker/positions?from=${from}&to=${to}`);
    const byIso = await get(
      `/api/devices/tracker/positions?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
    );
    expect(byMs.status).toBe(200);
    expect(byMs.body.positions.map((p: { ts: number }) => p.ts)).toEqual(
      track.filter((p) => p.ts >= from && p.ts <= to).map((p) => p.ts),
    );
    expect(byMs.body.positions[0]).toEqual(track[10]);
    expect(byIso.body.positions).toEqual(byMs.body.positions);
  });

  it("pages through a range with `next` until every position came exactly once", async () => {
    let url: string | null = `/api/devices/tracker/positions?limit=100`;
    const seen: number[] = [];
    let pages = 0;
    while (url) {
      const { status, body }: { status: number; body: PositionsReply } = await get(url);
      expect(status).toBe(200);
      expect(body.positions.length).toBeLessThanOrEqual(100);
      seen.push(...body.positions.map((p) => p.ts));
      url = body.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(track.map((p) => p.ts));
  });

  it("ends paging with next = null when a page is exactly full", async () => {
    const { body } = await get(`/api/devices/tracker/positions?limit=250`);
    expect(body.positions).toHaveLength(250);
    expect(body.next).toBeNull();
  });

  it.each([
    ["from=yesterday", "from"],
    ["to=2026-13-45T00:00:00Z", "to"],
    ["from=2026-11-24T08:00:00", "from"], // no zone: ambiguous, refused
    ["limit=0", "limit"],
    ["limit=10001", "limit"],
    ["limit=ten", "limit"],
    ["from=1&from=2", "from"],
    [`from=${T0 + 10}&to=${T0}`, "from"],
  ])("answers ?%s with a 400 naming %s", async (query, parameter) => {
    const { status, body } = await get(`/api/devices/tracker/positions?${query}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toMatch(new RegExp(`^${parameter}: `));
  });

  it("answers an unknown device with a 404", async () => {
    const { status, body } = await get(`/api/devices/nobody/positions`);
    expect(status).toBe(404);
    expect(body.error.message).toContain("nobody");
  });
});

describe("GET /api/devices and /api/health", () => {
  it("lists every device with its latest position and status", async () => {
    const { body } = await get("/api/devices");
    expect(body.devices).toEqual([
      {
        id: "tracker",
        status: expect.any(String),
        lastSeen: expect.any(Number),
        position: track.at(-1),
      },
    ]);
  });

  it("reports health with device and ingest counts", async () => {
    const { status, body } = await get("/api/health");
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, devices: 1, ingest: { rows: track.length } });
  });

  it("answers unknown API routes with a JSON 404, not the dashboard", async () => {
    const { status, body } = await get("/api/nothing-here");
    expect(status).toBe(404);
    expect(body.error.code).toBe("not_found");
  });
});
