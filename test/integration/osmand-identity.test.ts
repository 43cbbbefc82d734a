import { describe, expect, it } from "vitest";
import { nextSeconds, get, form, json, basic } from "../support/http-devices.ts";
import {
  addDevicesWithCli,
  runCli,
  storedFixes,
  storedRows,
  useTestBed,
} from "../support/locus.ts";

const bed = useTestBed();

describe("OsmAnd protocol: device identity", () => {
  it("refuses unknown devices and devices without their token, naming the rule", async () => {
    const server = await bed.start({ openRegistration: false });
    await addDevicesWithCli(server.db, ["owned"]);
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
    expect(badId.body).toMatch(/id: must be 1–64 characters/);
    expect(await storedRows(server.db, "stranger")).toHaveLength(0);
    expect(await storedRows(server.db, "owned")).toHaveLength(0);
  });

  it("takes the token as a parameter, a form field or the HTTP Basic password, and never stores it", async () => {
    const server = await bed.start({ openRegistration: false });
    const { car } = await addDevicesWithCli(server.db, ["car"]);
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
    const fixes = await storedFixes(server.db, "car");
    expect(fixes).toHaveLength(4);
    expect(JSON.stringify(fixes)).not.toContain(car!.slice(4));
  });

  it("lets a device report by identifier alone once an admin allows it, and stops when that is turned off", async () => {
    const server = await bed.start({ openRegistration: false });
    await addDevicesWithCli(server.db, ["phone"]);
    const report = () => get(server.url, `/osmand?id=phone&lat=1&lon=1&timestamp=${nextSeconds()}`);
    expect((await report()).status).toBe(401);

    expect(await runCli(server.db, "device", "allow-id-only", "phone", "on")).toMatch(
      /identifier alone/,
    );
    expect((await report()).status).toBe(200);
    // A wrong token is still refused: only its absence is excused.
    expect((await get(server.url, `/osmand?id=phone&lat=1&lon=1&token=lct_nope`)).status).toBe(401);
    const list = JSON.parse(await runCli(server.db, "device", "list", "--json"));
    expect(list).toEqual([
      expect.objectContaining({ deviceId: "phone", idOnly: true, hasToken: true }),
    ]);

    await runCli(server.db, "device", "allow-id-only", "phone", "off");
    expect((await report()).status).toBe(401);
    expect(await storedRows(server.db, "phone")).toHaveLength(1);
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
    await runCli(server.db, "device", "add", "osmand-phone", "--allow-id-only", "--json");
    const reply = await get(
      server.url,
      `/osmand?id=osmand-phone&lat=1&lon=1&timestamp=${nextSeconds()}`,
    );
    expect(reply.status).toBe(200);
  });
});
