import { describe, expect, it } from "vitest";
import { nextSeconds, KNOT, get, form, json } from "../support/http-devices.ts";
import { storedFixes, storedRows, useTestBed } from "../support/locus.ts";

const bed = useTestBed();

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
    const [fix] = await storedFixes(server.db, "phone-1");
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
    expect(await storedFixes(server.db, "gpslogger")).toEqual([
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
    expect(await storedRows(server.db, "tc-post")).toEqual([{ ts: tst * 1000, lat: 1.5 }]);
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

    const [first, second] = await storedFixes(server.db, "traccar-json");
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
    expect(await storedRows(server.db, "clock")).toEqual([{ ts: tst * 1000, lat: 10 }]);
  });

  it("stamps a report without a timestamp with its arrival, as Traccar does", async () => {
    const server = await bed.start();
    const before = Date.now();
    expect((await get(server.url, "/osmand?id=no-time&lat=10&lon=10")).status).toBe(200);
    const [row] = await storedRows(server.db, "no-time");
    expect(row!.ts).toBeGreaterThanOrEqual(before);
    expect(row!.ts).toBeLessThanOrEqual(Date.now());
  });

  it("answers a resend with 200 and stores it once, as for socket.io devices", async () => {
    const server = await bed.start();
    const path = `/osmand?id=resender&lat=1&lon=1&timestamp=${nextSeconds()}`;
    expect((await get(server.url, path)).status).toBe(200);
    expect((await get(server.url, path)).status).toBe(200);
    expect(await storedRows(server.db, "resender")).toHaveLength(1);
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
    expect(await storedFixes(server.db, "my-phone")).toEqual([
      expect.objectContaining({
        ts: ms,
        lat: 52.52,
        alt: 35.5,
        course: 181.3,
        attributes: { hdop: 4 },
      }),
    ]);
    expect(await storedFixes(server.db, "gpsl")).toEqual([
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
    expect(await storedRows(server.db, "port-a")).toHaveLength(1);
    expect(await storedRows(server.db, "port-b")).toHaveLength(1);

    await server.stop();
    await expect(fetch(`${base}/?id=late&lat=1&lon=2`)).rejects.toThrow();
  });
});
