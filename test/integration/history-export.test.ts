import { readFileSync } from "node:fs";
import { check as checkGeoJson } from "@placemarkio/check-geojson";
import { parse as parseCsv } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateXML } from "xmllint-wasm";
import { exportText, seedHistory, T0, TRACK } from "../support/history.ts";
import { signIn, startTestLocus, type TestLocus } from "../support/locus.ts";

const GPX_XSD = readFileSync(new URL("../support/schemas/gpx-1.1.xsd", import.meta.url), "utf8");

let server: TestLocus;
beforeAll(async () => {
  server = await startTestLocus();
  await seedHistory(server, ["granted"]);
});
afterAll(() => server.dispose());

describe("export", () => {
  it("GPX 1.1 validates against the GPX schema, one segment per stretch between gaps", async () => {
    const { res, body } = await exportText(server, "gpx");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/gpx\+xml/);
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="van_start_end\.gpx"$/,
    );
    const result = await validateXML({
      xml: [{ fileName: "van.gpx", contents: body }],
      schema: [GPX_XSD],
    });
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(body.match(/<trkseg>/g)).toHaveLength(2);
    expect(body.match(/<trkpt /g)).toHaveLength(500);
    expect(body).toContain('lon="0.0000001"');
  });

  it("the schema test can fail: a point with its time before its elevation is refused", async () => {
    const { body } = await exportText(server, "gpx");
    const swapped = body.replace(
      /<ele>([^<]*)<\/ele><time>([^<]*)<\/time>/,
      "<time>$2</time><ele>$1</ele>",
    );
    const result = await validateXML({
      xml: [{ fileName: "van.gpx", contents: swapped }],
      schema: [GPX_XSD],
    });
    expect(result.valid).toBe(false);
  });

  it("GeoJSON is a valid FeatureCollection with one Point per fix, readings as properties", async () => {
    const { res, body } = await exportText(server, "geojson");
    expect(res.headers.get("content-type")).toMatch(/application\/geo\+json/);
    const collection = checkGeoJson(body) as GeoJSON.FeatureCollection<GeoJSON.Point>;
    expect(collection.features).toHaveLength(500);
    expect(collection.features[0]).toEqual({
      type: "Feature",
      geometry: { type: "Point", coordinates: [-0.0005, 51.4769, 40] },
      properties: {
        time: new Date(T0).toISOString(),
        speed: 12.5,
        course: 3,
        accuracy: 4,
        battery: 80,
      },
    });
    expect(collection.features[499]!.properties!.attributes).toEqual(TRACK[499]!.attributes);
  });

  it("CSV parses to a header and one row per fix, escaping included", async () => {
    const { res, body } = await exportText(server, "csv", `&from=${T0 + 1_500_000}`);
    expect(res.headers.get("content-type")).toMatch(/text\/csv/);
    const rows = parseCsv(body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(200);
    expect(rows[1]).toEqual({
      time: new Date(T0 + 1_502_000).toISOString(),
      lat: String(TRACK[301]!.lat),
      lon: "0.01",
      speed: "0",
      course: "",
      alt: "",
      accuracy: "",
      battery: "",
      attributes: JSON.stringify(TRACK[301]!.attributes),
    });
  });

  it("KML is well-formed, a gx:Track per stretch with a time for every coordinate", async () => {
    const { res, body } = await exportText(server, "kml");
    expect(res.headers.get("content-type")).toMatch(/kml/);
    const result = await validateXML({
      xml: [{ fileName: "van.kml", contents: body }],
      normalization: "format",
    });
    expect(result.errors).toEqual([]);
    expect(body.match(/<gx:Track>/g)).toHaveLength(2);
    expect(body.match(/<when>/g)).toHaveLength(500);
    expect(body.match(/<gx:coord>/g)).toHaveLength(500);
  });

  it("an empty range still gives a valid file", async () => {
    const { body } = await exportText(server, "gpx", "&from=2001-01-01&to=2001-01-02");
    const result = await validateXML({ xml: body, schema: [GPX_XSD] });
    expect(result.valid).toBe(true);
    expect(
      (
        checkGeoJson(
          (await exportText(server, "geojson", "&to=2001-01-02")).body,
        ) as GeoJSON.FeatureCollection
      ).features,
    ).toEqual([]);
  });

  it("refuses an unknown format naming it, and hides devices not granted", async () => {
    const bad = await server.fetch(`/api/devices/van/export?format=shp`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toMatch(/^format: must be one of gpx/);
    await server.fetch("/api/admin/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "eve",
        role: "viewer",
        devices: ["granted"],
        password: "eve-password",
      }),
    });
    const cookie = await signIn(server.url, "eve", "eve-password");
    const hidden = await fetch(`${server.url}/api/devices/van/export`, { headers: { cookie } });
    expect(hidden.status).toBe(404);
    const importing = await fetch(`${server.url}/api/devices/granted/import`, {
      method: "POST",
      headers: { cookie },
      body: "<gpx/>",
    });
    expect(importing.status).toBe(403);
  });
});
