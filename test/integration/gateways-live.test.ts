import { describe, expect, it } from "vitest";
import type { LiveDevice } from "../../protocol/index.ts";
import { makePosition, runCli, useTestBed, waitFor } from "../support/locus.ts";
import { WsClient, wsUrl } from "../support/ws.ts";

const bed = useTestBed();

/**
 * End to end: a fix arriving over each phone-app protocol and over plain WebSocket reaches a
 * signed-in dashboard (socket.io `/live`, as the browser uses) and a plain-WebSocket viewer, in
 * the contract's units.
 */
describe("every gateway feeds the live map", () => {
  it("shows fixes from OsmAnd (query and JSON), OwnTracks and plain WebSocket on both kinds of dashboard", async () => {
    const server = await bed.start({ tickMs: 50, osmandPort: 0 });
    const dashboard = bed.dashboard();
    const token = (await runCli(server.db, "user", "token", "admin")).trim();
    const viewer = bed.track(await WsClient.open(wsUrl(server.url, `?token=${token}`)));
    await waitFor(() => dashboard.snapshots.length === 1, { what: "dashboard snapshot" });
    await viewer.frame("snapshot");

    const base = Math.floor(Date.now() / 1000) - 60;
    // OsmAnd query string on the main port: 20 knots.
    const osmand = await fetch(
      `${server.url}/osmand?id=osmand-phone&lat=52.5&lon=13.4&timestamp=${base}&speed=20`,
    );
    expect(osmand.status).toBe(200);
    // Traccar Client JSON on the dedicated port.
    const traccar = await fetch(`http://127.0.0.1:${server.locus.osmandPort}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        device_id: "traccar-phone",
        location: {
          timestamp: new Date((base + 1) * 1000).toISOString(),
          coords: { latitude: 48.2, longitude: 16.37, speed: 3, heading: 10 },
          battery: { level: 0.5, is_charging: true },
        },
      }),
    });
    expect(traccar.status).toBe(200);
    // OwnTracks: 36 km/h.
    const owntracks = await fetch(`${server.url}/owntracks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-limit-u": "jane", "x-limit-d": "phone" },
      body: JSON.stringify({ _type: "location", lat: 45.46, lon: 9.19, tst: base + 2, vel: 36 }),
    });
    expect(owntracks.status).toBe(200);
    // A plain WebSocket device.
    const device = bed.track(await WsClient.open(wsUrl(server.url, "?deviceId=ws-phone")));
    const wsFix = makePosition({ lat: 40.41, lon: -3.7 });
    expect(await device.report(1, wsFix)).toMatchObject({ ok: true, accepted: 1 });

    const expected: Record<string, Partial<LiveDevice["position"]>> = {
      "osmand-phone": { ts: base * 1000, lat: 52.5, speed: expect.closeTo((20 * 1852) / 3600, 9) },
      "traccar-phone": { ts: (base + 1) * 1000, lat: 48.2, speed: 3, course: 10, battery: 50 },
      "jane.phone": { ts: (base + 2) * 1000, lat: 45.46, speed: 10 },
      "ws-phone": wsFix,
    };
    for (const [id, position] of Object.entries(expected)) {
      await waitFor(() => dashboard.latest(id)?.ts === position!.ts, {
        what: `${id} on the dashboard`,
      });
      expect(dashboard.latest(id)).toMatchObject(position!);
      // A device first heard of appears (without a position) as soon as it is registered.
      const seen = await viewer.frame("batch", (b) =>
        b.devices.some((d) => d.id === id && d.position !== null),
      );
      expect(seen.devices.find((d) => d.id === id)!.position).toMatchObject(position!);
    }
  });
});
