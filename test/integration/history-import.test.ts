import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImportReply, Position, PositionsReply } from "../../protocol/index.ts";
import { exportText, seedHistory, T0, TRACK } from "../support/history.ts";
import { addDevicesWithCli, startTestLocus, type TestLocus } from "../support/locus.ts";

let server: TestLocus;
beforeAll(async () => {
  server = await startTestLocus();
  // Registered but without a fix yet: where the imports go.
  await seedHistory(server, ["gpx-target", "geojson-target", "bad-target"]);
});
afterAll(() => server.dispose());

async function importFile(deviceId: string, format: string, body: string) {
  const res = await server.fetch(`/api/devices/${deviceId}/import?format=${format}`, {
    method: "POST",
    body,
  });
  return { status: res.status, body: (await res.json()) as ImportReply & { error?: any } };
}

async function stored(deviceId: string): Promise<Position[]> {
  const res = await server.fetch(`/api/devices/${deviceId}/positions?limit=10000`);
  return ((await res.json()) as PositionsReply).positions;
}

describe("import", () => {
  it("a GPX export imports into another device unchanged, and importing it again stores nothing", async () => {
    const { body } = await exportText(server, "gpx");
    const first = await importFile("gpx-target", "gpx", body);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      deviceId: "gpx-target",
      accepted: 500,
      duplicates: 0,
      rejected: 0,
      errors: [],
    });
    const again = await importFile("gpx-target", "gpx", body);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 500, rejected: 0 });
    // GPX carries position, time, elevation, speed and course; not accuracy, battery, attributes.
    const gpxFields = ({ ts, lat, lon, alt, speed, course }: Position) =>
      JSON.parse(JSON.stringify({ ts, lat, lon, alt, speed, course })) as Position;
    expect(await stored("gpx-target")).toEqual(TRACK.map(gpxFields));
  });

  it("a GeoJSON export round-trips every reading", async () => {
    const { body } = await exportText(server, "geojson");
    const first = await importFile("geojson-target", "geojson", body);
    expect(first.body).toMatchObject({ accepted: 500, duplicates: 0, rejected: 0 });
    expect(await stored("geojson-target")).toEqual(TRACK);
    const again = await importFile("geojson-target", "geojson", body);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 500 });
  });

  it("reads GPX 1.0, several tracks and segments, and LineStrings with coordinate times", async () => {
    const t = (s: number) => new Date(T0 - 86_400_000 + s * 1000).toISOString();
    const gpx10 = `<?xml version="1.0"?>
<gpx version="1.0" creator="x" xmlns="http://www.topografix.com/GPX/1/0">
<wpt lat="1" lon="1"><name>ignored</name></wpt>
<trk><trkseg><trkpt lat="10" lon="20"><time>${t(0)}</time><speed>3</speed><course>90</course></trkpt></trkseg>
<trkseg><trkpt lat="10.0001" lon="20"><time>${t(1)}</time></trkpt></trkseg></trk>
<trk><trkseg><trkpt lat="10.0002" lon="20"><ele>5</ele><time>${t(2).replace("Z", "+00:00")}</time></trkpt></trkseg></trk>
</gpx>`;
    expect((await importFile("bad-target", "gpx", gpx10)).body).toMatchObject({ accepted: 3 });
    const lines = {
      type: "FeatureCollection",
      features: [
        {
          type: "Feature",
          geometry: {
            type: "LineString",
            coordinates: [
              [20, 10.0003],
              [20, 10.0004, 7],
            ],
          },
          properties: { coordinateProperties: { times: [t(10), t(11)] } },
        },
        {
          type: "Feature",
          geometry: { type: "MultiLineString", coordinates: [[[20, 10.0005]], [[20, 10.0006]]] },
          properties: { coordTimes: [[t(20)], [t(21)]] },
        },
      ],
    };
    const reply = await importFile("bad-target", "geojson", JSON.stringify(lines));
    expect(reply.body).toMatchObject({ accepted: 4, rejected: 0 });
    const positions = await stored("bad-target");
    expect(positions.map((p) => p.lat)).toEqual([
      10, 10.0001, 10.0002, 10.0003, 10.0004, 10.0005, 10.0006,
    ]);
    expect(positions[0]).toMatchObject({ speed: 3, course: 90 });
    expect(positions[4]).toMatchObject({ alt: 7 });
  });

  it.each([
    [
      "a point without lat",
      `<gpx version="1.1" creator="x">\n<trk><trkseg>\n<trkpt lon="1"><time>2025-01-01T00:00:00Z</time></trkpt>\n</trkseg></trk></gpx>`,
      /^line 3: <trkpt> lacks lat$/,
    ],
    [
      "a point without time",
      `<gpx version="1.1" creator="x"><trk><trkseg>\n\n<trkpt lat="1" lon="1"><ele>3</ele></trkpt></trkseg></trk></gpx>`,
      /^line 3: <trkpt> has no <time>/,
    ],
    [
      "XML that is not well-formed",
      `<gpx version="1.1" creator="x">\n<trk><trkseg>\n</trk></gpx>`,
      /^not well-formed XML: line 3, column \d+: unexpected close tag/,
    ],
    ["another XML document", `<kml><Document/></kml>`, /^line 1: the root element is <kml>/],
    ["a GPX without tracks", `<gpx><wpt lat="1" lon="2"/></gpx>`, /^no <trkpt> in this GPX file/],
  ])("refuses %s with an error naming the line", async (_what, gpx, message) => {
    const { status, body } = await importFile("bad-target", "gpx", gpx);
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_file");
    expect(body.error.message).toMatch(message);
  });

  it.each([
    [
      "broken JSON",
      `{"type":"FeatureCollection",\n"features":[\n{"type":}]}`,
      /^not valid JSON: line 3/,
    ],
    ["a geometry", `{"type":"Point","coordinates":[1,2]}`, /expects a FeatureCollection/],
    [
      "a feature without time",
      `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}]}`,
      /^features\[0\]: has no time/,
    ],
    [
      "a polygon",
      `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[]},"properties":{}}]}`,
      /^features\[0\]: geometry type "Polygon" is not a track/,
    ],
  ])("refuses GeoJSON that is %s, saying where", async (_what, json, message) => {
    const { status, body } = await importFile("bad-target", "geojson", json);
    expect(status).toBe(400);
    expect(body.error.message).toMatch(message);
  });

  it("rejects points that break the position rules, naming each, and stores the rest", async () => {
    const t = (s: number) => new Date(T0 - 2 * 86_400_000 + s * 1000).toISOString();
    const gpx = `<gpx version="1.1" creator="x"><trk><trkseg>
<trkpt lat="95" lon="1"><time>${t(0)}</time></trkpt>
<trkpt lat="1" lon="1"><time>yesterday</time></trkpt>
<trkpt lat="1" lon="1"><ele>high</ele><time>${t(2)}</time></trkpt>
<trkpt lat="1" lon="1"><time>${t(3)}</time></trkpt>
</trkseg></trk></gpx>`;
    const { status, body } = await importFile("bad-target", "gpx", gpx);
    expect(status).toBe(200);
    expect(body).toMatchObject({ accepted: 1, duplicates: 0, rejected: 3 });
    expect(body.errors).toEqual([
      { at: "line 2", message: "lat must be ≤ 90" },
      { at: "line 3", message: '<time> "yesterday" is not an ISO-8601 date-time' },
      { at: "line 4", message: "alt must be a finite number (metres)" },
    ]);
  });

  it("says which points were already stored when a file breaks half-way", async () => {
    const t = (s: number) => new Date(T0 - 3 * 86_400_000 + s * 1000).toISOString();
    const good = Array.from(
      { length: 3000 },
      (_, i) => `<trkpt lat="1" lon="${i / 1e4}"><time>${t(i)}</time></trkpt>`,
    ).join("\n");
    const gpx = `<gpx version="1.1" creator="x"><trk><trkseg>\n${good}\n<trkpt lat="1"></trkpt></trkseg></trk></gpx>`;
    const { status, body } = await importFile("bad-target", "gpx", gpx);
    expect(status).toBe(400);
    expect(body.error.message).toBe(
      "line 3002: <trkpt> lacks lon (the 3000 points before it were stored; importing the repaired file again skips them)",
    );
  });

  it("refuses a file above the size limit with 413, and unknown devices with 404", async () => {
    const small = await startTestLocus({ importMaxMb: 0.01 });
    try {
      await addDevicesWithCli(small.db, ["d"]);
      const big = `<gpx>${" ".repeat(20_000)}</gpx>`;
      const res = await small.fetch("/api/devices/d/import?format=gpx", {
        method: "POST",
        body: big,
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as any).error.message).toMatch(/larger than the 0.01 MB/);
      const unknown = await small.fetch("/api/devices/nobody/import", { method: "POST", body: "" });
      expect(unknown.status).toBe(404);
    } finally {
      await small.dispose();
    }
  });
});
