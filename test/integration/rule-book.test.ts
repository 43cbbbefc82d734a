import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AddDeviceReply, DevicesReply, Position } from "../../protocol/index.ts";
import { get, json, nextSeconds } from "../support/http-devices.ts";
import {
  connectDevice,
  makePosition,
  report,
  runCli,
  storedFixes,
  TEST_ADMIN_PASSWORD,
  useTestBed,
  type TestLocus,
} from "../support/locus.ts";
import { freePort, spawnServer } from "../support/server-process.ts";

/**
 * The defects a fresh clone showed before the services layer (issue #12): each transport had its
 * own slice of the rules. Every test here goes through the wire only, as a user would.
 */
const bed = useTestBed();

async function addDevice(server: TestLocus, deviceId: string): Promise<string> {
  const res = await server.fetch("/api/admin/devices", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ deviceId }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as AddDeviceReply).token;
}

const gpx = (points: Position[]) => `<?xml version="1.0"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
${points.map((p) => `<trkpt lat="${p.lat}" lon="${p.lon}"><time>${new Date(p.ts).toISOString()}</time></trkpt>`).join("\n")}
</trkseg></trk></gpx>`;

describe("one device directory", () => {
  it("answers /positions for a device registered the moment the server started, like /track and /summary", async () => {
    const server = await bed.start({ openRegistration: false });
    // Registered at once, as the demo does on its first run, then reporting.
    const token = await addDevice(server, "sim-0001");
    const fix = makePosition();
    expect(
      await report(bed.track(await connectDevice(server.url, "sim-0001", token)), fix),
    ).toMatchObject({ ok: true, accepted: 1 });
    for (const path of ["positions", "track", "summary"]) {
      expect((await server.fetch(`/api/devices/sim-0001/${path}`)).status).toBe(200);
    }
    const page = await (await server.fetch("/api/devices/sim-0001/positions")).json();
    expect(page.positions).toEqual([fix]);
  });

  it("lists a registered device that never reported, and answers its history empty everywhere", async () => {
    const server = await bed.start({ openRegistration: false });
    await addDevice(server, "spare");
    const devices = ((await (await server.fetch("/api/devices")).json()) as DevicesReply).devices;
    expect(devices).toContainEqual(
      expect.objectContaining({ id: "spare", position: null, lastSeen: 0, status: "offline" }),
    );
    const answers = await Promise.all(
      ["positions", "track", "summary", "trips", "stops"].map(async (path) => {
        const res = await server.fetch(`/api/devices/spare/${path}`);
        return [path, res.status] as const;
      }),
    );
    expect(answers).toEqual([
      ["positions", 200],
      ["track", 200],
      ["summary", 200],
      ["trips", 200],
      ["stops", 200],
    ]);
    expect((await server.fetch("/api/devices/nobody/positions")).status).toBe(404);
  });

  it("imports a file through the positions service: the live side shows the device's newest fix", async () => {
    const server = await bed.start({ openRegistration: false });
    await addDevice(server, "walker");
    const t0 = Date.now() - 3_600_000;
    const walk = Array.from({ length: 5 }, (_, i) => ({
      ts: t0 + i * 10_000,
      lat: 50 + i / 1e4,
      lon: 8,
    }));
    const res = await server.fetch("/api/devices/walker/import?format=gpx", {
      method: "POST",
      body: gpx([...walk, { ts: t0 + 60_000, lat: 0, lon: 0 }]),
    });
    expect(await res.json()).toMatchObject({ accepted: 6, duplicates: 0, rejected: 0 });
    // The (0, 0) point is stored but flagged, as a live report's would be.
    expect((await storedFixes(server.db, "walker")).at(-1)!.flag).toBe("null_island");
    const walker = async () =>
      ((await (await server.fetch("/api/devices")).json()) as DevicesReply).devices.find(
        (d) => d.id === "walker",
      );
    // The newest plausible fix; a fix from a file does not make the device online.
    expect(await walker()).toMatchObject({ position: { ts: walk[4]!.ts }, status: "offline" });
  });
});

describe("one rule set for people, whichever way in", () => {
  it("refuses from the CLI a user name the admin API refuses", async () => {
    const server = await bed.start();
    const api = await server.fetch("/api/admin/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Jane Doe", role: "viewer", devices: "all" }),
    });
    expect((await api.json()).error.message).toMatch(/^name: must be 1–64 letters/);
    await expect(runCli(server.db, "user", "add", "Jane Doe")).rejects.toThrow(
      /name: must be 1–64 letters, digits, _ \. @ -/,
    );
    expect(await runCli(server.db, "user", "list")).not.toMatch(/Jane/);
  });

  it("keeps the last admin, from the CLI and the API alike, and lets another admin go", async () => {
    const server = await bed.start();
    await expect(runCli(server.db, "user", "remove", "admin")).rejects.toThrow(
      /"admin" is the last admin and cannot be removed/,
    );
    await runCli(server.db, "user", "add", "second", "--role", "admin");
    const demote = await server.fetch("/api/admin/users/admin", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ role: "viewer", devices: "all" }),
    });
    expect(demote.status).toBe(409); // yourself: another admin must
    expect((await server.fetch("/api/admin/users/second", { method: "DELETE" })).status).toBe(204);
    expect(await runCli(server.db, "user", "list")).not.toMatch(/second/);
  });
});

describe("starting anywhere", () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it("stores reports when the server is started from another working directory", async () => {
    dir = mkdtempSync(join(tmpdir(), "locus-elsewhere-"));
    const port = await freePort();
    const server = await spawnServer({
      port,
      db: join(dir, "locus.db"),
      cwd: dir,
      args: ["--open-registration"],
      env: { LOCUS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD },
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      const device = bed.track(await connectDevice(url, "roamer"));
      expect(await report(device, makePosition())).toMatchObject({ ok: true, accepted: 1 });
      expect(await storedFixes(join(dir, "locus.db"), "roamer")).toHaveLength(1);
    } finally {
      server.kill("SIGKILL");
    }
  });
});

describe("Traccar Client 9.x JSON", () => {
  it("keeps an alarm (sos) as an attribute instead of dropping it", async () => {
    const server = await bed.start();
    const reply = await get(
      server.url,
      "/osmand",
      json({
        device_id: "sos-phone",
        location: {
          timestamp: new Date(nextSeconds() * 1000).toISOString(),
          coords: { latitude: 52.5, longitude: 13.4 },
          alarm: "sos",
        },
      }),
    );
    expect(reply.status).toBe(200);
    expect((await storedFixes(server.db, "sos-phone"))[0]!.attributes).toEqual({ alarm: "sos" });
  });
});
