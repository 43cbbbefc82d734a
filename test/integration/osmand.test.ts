import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addDevicesWithCli,
  runCli,
  startTestLocus,
  type TestLocus,
  storedFixes,
  storedRows,
  useTestBed,
} from "../support/locus.ts";

const bed = useTestBed();

/** A fix time the server accepts: whole seconds, a little in the past, distinct per call. */
let secondsCounter = Math.floor(Date.now() / 1000) - 7200;
const nextSeconds = () => ++secondsCounter;

const KNOT = 1852 / 3600;

async function get(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const form = (fields: Record<string, string | number>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString(),
});

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("OsmAnd protocol: what the apps send", () => {
  it("stores a Traccar Client query-string GET with its units converted, answering 200 and nothing else", async () => {
    const server = await bed.start();
    const tst = nextSeconds();
    const reply = await get(
      server.url,
      `/osmand?id=phone-1&timestamp=${tst}&lat=52.520008&lon=13.404954&speed=10&bearing=90.5` +
        `&altitude=34.2&accuracy=12.5&batt=76&charge=true`,
    );
    expect(reply).toMatchObject({ status: 200, body: "" });
    const [fix] = storedFixes(server.dbPath, "phone-1");
    expect(fix).toEqual({
      ts: tst * 1000,
      lat: 52.520008,
      lon: 13.404954,
      speed: expect.closeTo(10 * KNOT, 9),
      course: 90.5,
      alt: 34.2,
      accuracy: 12.5,
      battery: 76,
      attributes: { charge: true },
      flag: null,
    });
  });

  it("stores a form POST (GPSLogger) with deviceid, location=lat,lon, heading, hdop and extra parameters as attributes", async () => {
    const server = await bed.start();
    const tst = nextSeconds();
    const reply = await get(
      server.url,
      "/osmand",
      form({
        deviceid: "gpslogger",
        timestamp: new Date(tst * 1000).toISOString(),
        location: "48.137154,11.576124",
        heading: 360,
        hdop: 0.9,
        valid: "1",
        sat: 7,
        provider: "gps",
        ignition: "false",
        alt: "",
      }),
    );
    expect(reply).toMatchObject({ status: 200, body: "" });
    expect(storedFixes(server.dbPath, "gpslogger")).toEqual([
      expect.objectContaining({
        ts: tst * 1000,
        lat: 48.137154,
        lon: 11.576124,
        course: 0, // 360 is north as well
        speed: null,
        alt: null, // empty placeholder counts as absent
        attributes: { hdop: 0.9, valid: true, sat: 7, provider: "gps", ignition: false },
      }),
    ]);
  });

  it("takes POST with the parameters in the URL and an empty body, as Traccar Client sends it", async () => {
    const server = await bed.start();
    const tst = nextSeconds();
    const reply = await get(server.url, `/osmand?id=tc-post&timestamp=${tst}&lat=1.5&lon=2.5`, {
      method: "POST",
    });
    expect(reply.status).toBe(200);
    expect(storedRows(server.dbPath, "tc-post")).toEqual([{ ts: tst * 1000, lat: 1.5 }]);
  });

  it("stores the JSON body of newer Traccar Clients, converting battery and leaving out unknown speed and heading", async () => {
    const server = await bed.start();
    const tst = nextSeconds();
    const body = {
      device_id: "traccar-json",
      location: {
        timestamp: new Date(tst * 1000).toISOString(),
        coords: {
          latitude: 40.4168,
          longitude: -3.7038,
          accuracy: 8,
          speed: -1,
          heading: -1,
          altitude: 657,
          altitude_accuracy: 3, // fields Locus does not use are ignored
        },
        is_moving: true,
        odometer: 1523.5,
        event: "motionchange",
        battery: { level: 0.85, is_charging: false },
        activity: { type: "walking" },
        extras: { trip: "morning" },
        uuid: "9b5c-…",
      },
    };
    expect(await get(server.url, "/osmand", json(body))).toMatchObject({ status: 200, body: "" });
    const moving = {
      ...body.location,
      timestamp: new Date((tst + 1) * 1000).toISOString(),
      coords: { ...body.location.coords, speed: 1.8, heading: 270 },
    };
    expect((await get(server.url, "/osmand", json({ ...body, location: moving }))).status).toBe(
      200,
    );

    const [first, second] = storedFixes(server.dbPath, "traccar-json");
    expect(first).toEqual({
      ts: tst * 1000,
      lat: 40.4168,
      lon: -3.7038,
      speed: null,
      course: null,
      alt: 657,
      accuracy: 8,
      battery: 85,
      attributes: {
        trip: "morning",
        charge: false,
        is_moving: true,
        odometer: 1523.5,
        event: "motionchange",
        activity: "walking",
      },
      flag: null,
    });
    expect(second).toMatchObject({ speed: 1.8, course: 270 }); // m/s already: not converted
  });

  it.each([
    ["epoch milliseconds", (s: number) => String(s * 1000)],
    [
      "ISO-8601 with an offset",
      (s: number) => new Date(s * 1000).toISOString().replace("Z", "+00:00"),
    ],
    [
      "yyyy-MM-dd HH:mm:ss taken as UTC",
      (s: number) => new Date(s * 1000).toISOString().slice(0, 19).replace("T", " "),
    ],
  ])("reads a timestamp given as %s", async (_name, format) => {
    const server = await bed.start();
    const tst = nextSeconds();
    const reply = await get(
      server.url,
      `/osmand?id=clock&lat=10&lon=10&timestamp=${encodeURIComponent(format(tst))}`,
    );
    expect(reply.status).toBe(200);
    expect(storedRows(server.dbPath, "clock")).toEqual([{ ts: tst * 1000, lat: 10 }]);
  });

  it("stamps a report without a timestamp with its arrival, as Traccar does", async () => {
    const server = await bed.start();
    const before = Date.now();
    expect((await get(server.url, "/osmand?id=no-time&lat=10&lon=10")).status).toBe(200);
    const [row] = storedRows(server.dbPath, "no-time");
    expect(row!.ts).toBeGreaterThanOrEqual(before);
    expect(row!.ts).toBeLessThanOrEqual(Date.now());
  });

  it("answers a resend with 200 and stores it once, as for socket.io devices", async () => {
    const server = await bed.start();
    const path = `/osmand?id=resender&lat=1&lon=1&timestamp=${nextSeconds()}`;
    expect((await get(server.url, path)).status).toBe(200);
    expect((await get(server.url, path)).status).toBe(200);
    expect(storedRows(server.dbPath, "resender")).toHaveLength(1);
  });

  it("takes the URL templates the README gives for OsmAnd and GPSLogger, filled in as the apps do", async () => {
    const server = await bed.start();
    const ms = nextSeconds() * 1000;
    const osmand =
      "/osmand?id=my-phone&lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&bearing={6}"
        .replace("{0}", "52.5200")
        .replace("{1}", "13.4050")
        .replace("{2}", String(ms))
        .replace("{3}", "4.0")
        .replace("{4}", "35.5")
        .replace("{6}", "181.3");
    expect((await get(server.url, osmand)).status).toBe(200);
    const tst = nextSeconds();
    const gpslogger =
      "/osmand?id=gpsl&lat=%LAT&lon=%LON&timestamp=%TIMESTAMP&altitude=%ALT&accuracy=%ACC&bearing=%DIR&batt=%BATT&charge=%ISCHARGING&provider=%PROV"
        .replace("%LAT", "48.1")
        .replace("%LON", "11.5")
        .replace("%TIMESTAMP", String(tst))
        .replace("%ALT", "519.0")
        .replace("%ACC", "3.9")
        .replace("%DIR", "") // no bearing yet
        .replace("%BATT", "64.0")
        .replace("%ISCHARGING", "false")
        .replace("%PROV", "gps");
    expect((await get(server.url, gpslogger)).status).toBe(200);
    expect(storedFixes(server.dbPath, "my-phone")).toEqual([
      expect.objectContaining({
        ts: ms,
        lat: 52.52,
        alt: 35.5,
        course: 181.3,
        attributes: { hdop: 4 },
      }),
    ]);
    expect(storedFixes(server.dbPath, "gpsl")).toEqual([
      expect.objectContaining({
        ts: tst * 1000,
        alt: 519,
        accuracy: 3.9,
        course: null,
        battery: 64,
        attributes: { charge: false, provider: "gps" },
      }),
    ]);
  });

  it("listens on --osmand-port at any path, and stops listening on shutdown", async () => {
    const server = await bed.start({ osmandPort: 0 });
    const port = server.locus.osmandPort!;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(server.locus.port);
    const base = `http://127.0.0.1:${port}`;
    const tst = nextSeconds();
    expect((await get(base, `/?id=port-a&lat=1&lon=2&timestamp=${tst}`)).status).toBe(200);
    expect((await get(base, `/any/path?id=port-b&lat=1&lon=2&timestamp=${tst}`)).status).toBe(200);
    expect((await get(base, "/?id=port-a&lat=95&lon=2")).body).toMatch(/lat: must be ≤ 90/);
    expect(storedRows(server.dbPath, "port-a")).toHaveLength(1);
    expect(storedRows(server.dbPath, "port-b")).toHaveLength(1);

    await server.stop();
    await expect(fetch(`${base}/?id=late&lat=1&lon=2`)).rejects.toThrow();
  });
});

describe("OsmAnd protocol: device identity", () => {
  it("refuses unknown devices and devices without their token, naming the rule", async () => {
    const server = await bed.start({ openRegistration: false });
    await addDevicesWithCli(server.dbPath, ["owned"]);
    const unknown = await get(server.url, `/osmand?id=stranger&lat=1&lon=1`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toMatchObject({ code: "unknown_device" });
    const missing = await get(server.url, `/osmand?id=owned&lat=1&lon=1`);
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body).error.code).toBe("token_required");
    const wrong = await get(server.url, `/osmand?id=owned&lat=1&lon=1&token=lct_wrong`);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error.code).toBe("invalid_token");
    const badId = await get(
      server.url,
      `/osmand?id=${encodeURIComponent("no spaces")}&lat=1&lon=1`,
    );
    expect(badId.status).toBe(400);
    expect(badId.body).toMatch(/id must be 1–64 characters/);
    expect(storedRows(server.dbPath, "stranger")).toHaveLength(0);
    expect(storedRows(server.dbPath, "owned")).toHaveLength(0);
  });

  it("takes the token as a parameter, a form field or the HTTP Basic password, and never stores it", async () => {
    const server = await bed.start({ openRegistration: false });
    const { car } = await addDevicesWithCli(server.dbPath, ["car"]);
    const q = await get(
      server.url,
      `/osmand?id=car&lat=1&lon=1&timestamp=${nextSeconds()}&token=${car}`,
    );
    expect(q.body).toBe("");
    expect(q.status).toBe(200);
    const f = await get(
      server.url,
      "/osmand",
      form({ id: "car", lat: 1, lon: 1, timestamp: nextSeconds(), token: car! }),
    );
    expect(f.body).toBe("");
    expect(f.status).toBe(200);
    const b = await get(server.url, `/osmand?lat=1&lon=1&timestamp=${nextSeconds()}`, {
      headers: { authorization: basic("car", car!) }, // the Basic user names the device
    });
    expect(b.body).toBe("");
    expect(b.status).toBe(200);
    const j = await get(
      server.url,
      "/osmand",
      json(
        {
          device_id: "car",
          location: {
            timestamp: new Date(nextSeconds() * 1000).toISOString(),
            coords: { latitude: 1, longitude: 1 },
          },
        },
        { authorization: basic("car", car!) },
      ),
    );
    expect(j.body).toBe("");
    expect(j.status).toBe(200);
    const fixes = storedFixes(server.dbPath, "car");
    expect(fixes).toHaveLength(4);
    expect(JSON.stringify(fixes)).not.toContain(car!.slice(4));
  });

  it("lets a device report by identifier alone once an admin allows it, and stops when that is turned off", async () => {
    const server = await bed.start({ openRegistration: false });
    await addDevicesWithCli(server.dbPath, ["phone"]);
    const report = () => get(server.url, `/osmand?id=phone&lat=1&lon=1&timestamp=${nextSeconds()}`);
    expect((await report()).status).toBe(401);

    expect(await runCli(server.dbPath, "device", "allow-id-only", "phone", "on")).toMatch(
      /identifier alone/,
    );
    expect((await report()).status).toBe(200);
    // A wrong token is still refused: only its absence is excused.
    expect((await get(server.url, `/osmand?id=phone&lat=1&lon=1&token=lct_nope`)).status).toBe(401);
    const list = JSON.parse(await runCli(server.dbPath, "device", "list", "--json"));
    expect(list).toEqual([
      expect.objectContaining({ deviceId: "phone", idOnly: true, hasToken: true }),
    ]);

    await runCli(server.dbPath, "device", "allow-id-only", "phone", "off");
    expect((await report()).status).toBe(401);
    expect(storedRows(server.dbPath, "phone")).toHaveLength(1);
  });

  it("lets an admin switch id-only reporting over the admin API", async () => {
    const server = await bed.start({ openRegistration: false });
    const patch = (id: string, body: unknown) =>
      server.fetch(`/api/admin/devices/${id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const bad = await patch("tracker", { idOnly: "yes" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/^idOnly: must be true or false/);

    const on = await patch("tracker", { idOnly: true });
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ deviceId: "tracker", idOnly: true, hasToken: false });
    const report = () =>
      get(server.url, `/osmand?id=tracker&lat=1&lon=1&timestamp=${nextSeconds()}`);
    expect((await report()).status).toBe(200);
    await patch("tracker", { idOnly: false });
    expect((await report()).status).toBe(404); // registered without a token: as good as unknown
    const anonymous = await fetch(`${server.url}/api/admin/devices/tracker`, { method: "PATCH" });
    expect(anonymous.status).toBe(401);
  });

  it("registers a new id-only device with `device add --allow-id-only`", async () => {
    const server = await bed.start({ openRegistration: false });
    await runCli(server.dbPath, "device", "add", "osmand-phone", "--allow-id-only", "--json");
    const reply = await get(
      server.url,
      `/osmand?id=osmand-phone&lat=1&lon=1&timestamp=${nextSeconds()}`,
    );
    expect(reply.status).toBe(200);
  });
});

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
    expect(storedRows(server.dbPath, "m")).toHaveLength(0);
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
