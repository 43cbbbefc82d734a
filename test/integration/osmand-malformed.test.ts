import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextSeconds, get } from "../support/http-devices.ts";
import { startTestLocus, storedRows, type TestLocus, useTestBed } from "../support/locus.ts";

const bed = useTestBed();

describe("OsmAnd protocol: malformed requests", () => {
  // One server for the table below: each case is one request that must change nothing.
  let shared: TestLocus;
  beforeAll(async () => {
    shared = await startTestLocus();
  });
  afterAll(() => shared.dispose());

  it.each([
    ["no device id", "/osmand?lat=1&lon=1", 400, /^id: is required/],
    ["no latitude", "/osmand?id=m&lon=1", 400, /^lat: is required/],
    [
      "a latitude that is not a number",
      "/osmand?id=m&lat=abc&lon=1",
      400,
      /^lat: must be a number/,
    ],
    ["a latitude out of range", "/osmand?id=m&lat=91&lon=1", 400, /^lat: must be ≤ 90/],
    ["a broken location", "/osmand?id=m&location=1", 400, /^location: must be lat,lon/],
    ["negative knots", "/osmand?id=m&lat=1&lon=1&speed=-3", 400, /^speed: must be ≥ 0/],
    [
      "a bearing out of range",
      "/osmand?id=m&lat=1&lon=1&bearing=400",
      400,
      /^bearing: must be < 360/,
    ],
    ["a battery above 100", "/osmand?id=m&lat=1&lon=1&batt=120", 400, /^batt: must be ≤ 100/],
    [
      "a timestamp without a zone",
      "/osmand?id=m&lat=1&lon=1&timestamp=2026-01-01T10:00:00",
      400,
      /^timestamp: must be epoch seconds/,
    ],
    [
      "a timestamp in 1970",
      "/osmand?id=m&lat=1&lon=1&timestamp=5",
      400,
      /^timestamp: must not be before 2000/,
    ],
    [
      "a charge that is not a boolean",
      "/osmand?id=m&lat=1&lon=1&charge=maybe",
      400,
      /^charge: must be true or false/,
    ],
    ["a parameter given twice", "/osmand?id=m&lat=1&lat=2&lon=1", 400, /^lat: must be given once/],
    [
      "an attribute name with a space",
      "/osmand?id=m&lat=1&lon=1&bad%20key=1",
      400,
      /^bad key: must be a flat object/,
    ],
    ["a __proto__ parameter", "/osmand?id=m&lat=1&lon=1&__proto__=x", 400, /__proto__/],
  ])("answers %s with %i and the reason", async (_name, path, status, message) => {
    const server = shared;
    const reply = await get(server.url, path);
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.body).error.message).toMatch(message);
    expect(await storedRows(server.db, "m")).toHaveLength(0);
  });

  it.each([
    ["not JSON", "{oops", /^body: must be valid JSON/],
    [
      "no device_id",
      { location: { timestamp: "2026-01-01T00:00:00Z", coords: { latitude: 1, longitude: 1 } } },
      /^device_id: is required/,
    ],
    [
      "no coords",
      { device_id: "m", location: { timestamp: "2026-01-01T00:00:00Z" } },
      /^location.coords: is required/,
    ],
    [
      "a string latitude",
      {
        device_id: "m",
        location: { timestamp: "2026-01-01T00:00:00Z", coords: { latitude: "1", longitude: 1 } },
      },
      /^location.coords.latitude: must be a number/,
    ],
    [
      "a timestamp without a zone",
      {
        device_id: "m",
        location: { timestamp: "2026-01-01 00:00", coords: { latitude: 1, longitude: 1 } },
      },
      /^location.timestamp: must be an ISO-8601/,
    ],
    [
      "a latitude out of range",
      {
        device_id: "m",
        location: { timestamp: new Date().toISOString(), coords: { latitude: 100, longitude: 1 } },
      },
      /^location.coords.latitude: must be ≤ 90/,
    ],
    [
      "nested extras",
      {
        device_id: "m",
        location: {
          timestamp: new Date().toISOString(),
          coords: { latitude: 1, longitude: 1 },
          extras: { deep: { x: 1 } },
        },
      },
      /^location.extras.deep: must be a string/,
    ],
  ])("answers a JSON body with %s with 400 naming the field", async (_name, body, message) => {
    const server = shared;
    const reply = await get(server.url, "/osmand", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error.message).toMatch(message);
  });

  it("answers other methods with 405, a flood with 429 and Retry-After, and keeps serving", async () => {
    const server = await bed.start({ rateLimit: 0.5, rateBurst: 2 });
    expect((await get(server.url, "/osmand?id=x&lat=1&lon=1", { method: "PUT" })).status).toBe(405);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const r = await get(server.url, `/osmand?id=flood&lat=1&lon=1&timestamp=${nextSeconds()}`);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get("retry-after");
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(
      (await get(server.url, `/osmand?id=calm&lat=1&lon=1&timestamp=${nextSeconds()}`)).status,
    ).toBe(200);
  });
});
