import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addDevicesWithCli,
  runCli,
  startTestLocus,
  storedFixes,
  storedRows,
  useTestBed,
  type TestLocus,
} from "../support/locus.ts";
import { basic, nextSeconds } from "../support/http-devices.ts";

const bed = useTestBed();

/** A location message as the Android app (2.x) publishes it, numbers as numbers. */
function androidLocation(tst: number) {
  return {
    _type: "location",
    _id: "c2f1b7a4",
    acc: 13,
    alt: 47,
    batt: 82,
    bs: 1,
    BSSID: "a4:2b:b0:11:22:33",
    SSID: "HomeWifi",
    conn: "w",
    created_at: tst + 5,
    inregions: ["home", "street"],
    lat: 52.5163,
    lon: 13.3777,
    m: 1,
    t: "u",
    tid: "jp",
    topic: "owntracks/jane/phone",
    tst,
    vac: 3,
    vel: 18,
    cog: 125,
  };
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  path = "/owntracks",
) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, type: res.headers.get("content-type") };
}

describe("OwnTracks HTTP mode", () => {
  it("stores an Android location with X-Limit-U/D and Basic auth as user.device, converting km/h", async () => {
    const server = await bed.start({ openRegistration: false });
    const { "jane.phone": token } = await addDevicesWithCli(server.db, ["jane.phone"]);
    const tst = nextSeconds();
    const reply = await post(server.url, androidLocation(tst), {
      authorization: basic("jane", token!),
      "x-limit-u": "jane",
      "x-limit-d": "phone",
    });
    expect(reply).toMatchObject({ status: 200, text: "[]" });
    expect(reply.type).toMatch(/application\/json/);
    expect(await storedFixes(server.db, "jane.phone")).toEqual([
      {
        ts: tst * 1000,
        lat: 52.5163,
        lon: 13.3777,
        speed: 5, // 18 km/h
        course: 125,
        alt: 47,
        accuracy: 13,
        battery: 82,
        attributes: {
          bs: 1,
          BSSID: "a4:2b:b0:11:22:33",
          SSID: "HomeWifi",
          conn: "w",
          created_at: tst + 5,
          inregions: "home,street",
          m: 1,
          t: "u",
          tid: "jp",
          topic: "owntracks/jane/phone",
          vac: 3,
        },
        flag: null,
      },
    ]);
  });

  it("takes the user from the Basic user and the device from ?d= when the X-Limit headers are absent", async () => {
    const server = await bed.start({ openRegistration: false });
    const { "jane.tablet": token } = await addDevicesWithCli(server.db, ["jane.tablet"]);
    const tst = nextSeconds();
    const reply = await post(
      server.url,
      { _type: "location", lat: 48.85833, lon: 2.29513, tst, tid: "JT" },
      { authorization: basic("jane", token!) },
      "/owntracks?d=tablet",
    );
    expect(reply.status).toBe(200);
    expect(await storedRows(server.db, "jane.tablet")).toEqual([{ ts: tst * 1000, lat: 48.85833 }]);
  });

  it("takes ?u= and ?d= for an id-only device, and older apps' numbers sent as strings", async () => {
    const server = await bed.start({ openRegistration: false });
    await runCli(server.db, "device", "allow-id-only", "bob.phone", "on");
    const tst = nextSeconds();
    const reply = await post(
      server.url,
      { _type: "location", lat: "45.4642", lon: "9.19", tst: String(tst), vel: "36", batt: "50" },
      {},
      "/owntracks?u=bob&d=phone",
    );
    expect(reply.status).toBe(200);
    expect(await storedFixes(server.db, "bob.phone")).toEqual([
      expect.objectContaining({ ts: tst * 1000, lat: 45.4642, lon: 9.19, speed: 10, battery: 50 }),
    ]);
  });

  it("leaves out what iOS marks unknown with -1", async () => {
    const server = await bed.start();
    const tst = nextSeconds();
    await post(
      server.url,
      { _type: "location", lat: 1, lon: 1, tst, vel: -1, cog: -1, acc: -1, alt: -12 },
      { "x-limit-u": "ios", "x-limit-d": "iphone" },
    );
    expect(await storedFixes(server.db, "ios.iphone")).toEqual([
      expect.objectContaining({ speed: null, course: null, accuracy: null, alt: -12 }),
    ]);
  });

  it("accepts other message types and empty bodies with 200 [], storing no position", async () => {
    const server = await bed.start();
    const headers = { "x-limit-u": "jane", "x-limit-d": "phone" };
    const tst = nextSeconds();
    const others = [
      {
        _type: "transition",
        wtst: tst - 100,
        lat: 1,
        lon: 1,
        tst,
        acc: 10,
        tid: "jp",
        event: "enter",
        desc: "Home",
        t: "c",
      },
      { _type: "waypoint", desc: "Home", lat: 1, lon: 1, rad: 50, tst },
      { _type: "lwt", tst },
      { _type: "encrypted", data: "c2VjcmV0" },
    ];
    for (const message of others) {
      expect(await post(server.url, message, headers)).toMatchObject({ status: 200, text: "[]" });
    }
    expect(await post(server.url, "", headers)).toMatchObject({ status: 200, text: "[]" });
    expect(await storedRows(server.db, "jane.phone")).toHaveLength(0);
  });

  it("turns the phone's own region transitions into enter and exit events, once each", async () => {
    const server = await bed.start();
    const headers = { "x-limit-u": "jane", "x-limit-d": "phone" };
    const tst = nextSeconds();
    const transition = (event: string, at: number) => ({
      _type: "transition",
      wtst: tst - 100,
      lat: 52.52,
      lon: 13.4,
      tst: at,
      acc: 10,
      tid: "jp",
      event,
      desc: "Home",
      t: "c",
    });
    for (const message of [
      transition("leave", tst),
      transition("leave", tst),
      transition("enter", tst + 60),
    ]) {
      expect(await post(server.url, message, headers)).toMatchObject({ status: 200, text: "[]" });
    }
    const bad = await post(server.url, transition("arrive", tst + 90), headers);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.field).toBe("event");
    const { events } = await (await server.fetch("/api/events")).json();
    expect(
      events.map((e: { type: string; ts: number; details: unknown }) => [e.type, e.ts, e.details]),
    ).toEqual([
      ["geofence_enter", (tst + 60) * 1000, { name: "Home", source: "phone" }],
      ["geofence_exit", tst * 1000, { name: "Home", source: "phone" }],
    ]);
  });

  it("refuses wrong or missing passwords and unknown devices, as the device rules say", async () => {
    const server = await bed.start({ openRegistration: false });
    await addDevicesWithCli(server.db, ["jane.phone"]);
    const message = { _type: "location", lat: 1, lon: 1, tst: nextSeconds() };
    const limits = { "x-limit-u": "jane", "x-limit-d": "phone" };
    const wrong = await post(server.url, message, {
      ...limits,
      authorization: basic("jane", "nope"),
    });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text).error.code).toBe("invalid_token");
    const missing = await post(server.url, message, limits);
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text).error.code).toBe("token_required");
    const stranger = await post(server.url, message, { "x-limit-u": "eve", "x-limit-d": "phone" });
    expect(stranger.status).toBe(404);
    expect(JSON.parse(stranger.text).error.message).toMatch(/eve\.phone/);
    const nobody = await post(server.url, message, {});
    expect(nobody.status).toBe(400);
    expect(JSON.parse(nobody.text).error.message).toMatch(/^X-Limit-U: is required/);
    expect(await storedRows(server.db, "jane.phone")).toHaveLength(0);
  });
});

describe("OwnTracks HTTP mode: malformed messages", () => {
  // One server for the table below: each case is one request that must change nothing.
  let shared: TestLocus;
  beforeAll(async () => {
    shared = await startTestLocus();
  });
  afterAll(() => shared.dispose());

  it.each([
    ["not JSON", "{", /^body: must be valid JSON/],
    ["an array", "[]", /^body: must be a JSON object/],
    ["no _type", { lat: 1, lon: 1, tst: 1 }, /^_type: is required/],
    ["no latitude", { _type: "location", lon: 1, tst: 1_700_000_000 }, /^lat: is required/],
    ["no tst", { _type: "location", lat: 1, lon: 1 }, /^tst: is required/],
    [
      "a latitude that is not a number",
      { _type: "location", lat: "north", lon: 1, tst: 1_700_000_000 },
      /^lat: must be a number/,
    ],
    [
      "a latitude out of range",
      { _type: "location", lat: 123, lon: 1, tst: 1_700_000_000 },
      /^lat: must be ≤ 90/,
    ],
    [
      "a battery above 100",
      { _type: "location", lat: 1, lon: 1, tst: 1_700_000_000, batt: 140 },
      /^batt: must be ≤ 100/,
    ],
    [
      "a tst in milliseconds",
      { _type: "location", lat: 1, lon: 1, tst: 1_700_000_000_000 },
      /^tst: must not be more than/,
    ],
    [
      "a nested attribute",
      { _type: "location", lat: 1, lon: 1, tst: 1_700_000_000, extra: { a: 1 } },
      /^extra: must be a string/,
    ],
  ])("answers %s with 400 naming the field", async (_name, body, message) => {
    const server = shared;
    const reply = await post(server.url, body, { "x-limit-u": "m", "x-limit-d": "x" });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.message).toMatch(message);
    expect(await storedRows(server.db, "m.x")).toHaveLength(0);
  });

  it("answers GET with 405", async () => {
    const server = await bed.start();
    expect((await fetch(`${server.url}/owntracks`)).status).toBe(405);
  });
});
