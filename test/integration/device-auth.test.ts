import { describe, expect, it } from "vitest";
import {
  addDevicesWithCli,
  connectDevice,
  makePosition,
  report,
  storedRows,
  useTestBed,
} from "../support/locus.ts";
import { storeContents } from "../support/test-db.ts";

const bed = useTestBed();
const connect = (deviceId: string, token?: string) => bed.device(deviceId, token);
const addDevices = (...ids: string[]) => addDevicesWithCli(bed.server.db, ids);

describe("device tokens", () => {
  it("lets a device added with the CLI report with its token, and only as itself", async () => {
    const server = await bed.start({ openRegistration: false });
    const tokens = await addDevices("truck-17", "van-2");
    expect(tokens["truck-17"]).toMatch(/^lct_[\w-]{43}$/);

    const truck = await connect("truck-17", tokens["truck-17"]);
    expect(await report(truck, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    // truck-17's token does not open van-2.
    await expect(connectDevice(server.url, "van-2", tokens["truck-17"])).rejects.toMatchObject({
      data: { code: "invalid_token" },
    });
    expect(await storedRows(server.db, "van-2")).toHaveLength(0);
  });

  it.each([
    ["a wrong token", "lct_wrong", "invalid_token", /wrong token/],
    ["no token", undefined, "token_required", /must send its token/],
    ["a token of the wrong type", 42 as unknown as string, "invalid_token", /must be a string/],
  ])(
    "refuses a registered device with %s at the handshake, with the reason",
    async (_n, token, code, message) => {
      const server = await bed.start({ openRegistration: false });
      await addDevices("bus-1");
      await expect(connectDevice(server.url, "bus-1", token)).rejects.toMatchObject({
        data: { code, message: expect.stringMatching(message) },
      });
    },
  );

  it("refuses unregistered devices unless open registration is on", async () => {
    const server = await bed.start({ openRegistration: false });
    await expect(connectDevice(server.url, "stranger")).rejects.toMatchObject({
      data: {
        code: "unknown_device",
        message: expect.stringContaining("npm run locus -- device add stranger"),
      },
    });

    await bed.start({ openRegistration: true });
    const stranger = await connect("stranger");
    expect(await report(stranger, makePosition())).toMatchObject({ accepted: 1 });
  });

  it("still requires the token of a registered device under open registration", async () => {
    const server = await bed.start({ openRegistration: true });
    await addDevices("owned");
    await expect(connectDevice(server.url, "owned")).rejects.toMatchObject({
      data: { code: "token_required" },
    });
  });

  it("invalidates the old token when a device's token is replaced", async () => {
    const server = await bed.start({ openRegistration: false });
    const first = await addDevices("car");
    const second = await addDevices("car");
    expect(second.car).not.toBe(first.car);
    await expect(connectDevice(server.url, "car", first.car)).rejects.toMatchObject({
      data: { code: "invalid_token" },
    });
    expect((await connect("car", second.car)).connected).toBe(true);
  });

  it("stores only a hash of each token", async () => {
    const server = await bed.start({ openRegistration: false });
    const tokens = await addDevices("secretive");
    const contents = await storeContents(server.db);
    expect(contents).toContain("secretive");
    expect(contents).not.toContain(tokens.secretive!.slice(4));
  });
});
