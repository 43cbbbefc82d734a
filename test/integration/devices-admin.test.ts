import { describe, expect, it } from "vitest";
import type {
  AddDeviceReply,
  AdminDevice,
  AdminDeviceDetail,
  DevicesReply,
} from "../../protocol/index.ts";
import {
  connectDevice,
  Dashboard,
  makePosition,
  report,
  runCli,
  signIn,
  useTestBed,
  waitFor,
  type TestLocus,
} from "../support/locus.ts";

/** Device management: names, groups and removal, through the admin API, the CLI and live feeds. */
const bed = useTestBed();

function admin(server: TestLocus, path: string, method = "GET", body?: unknown) {
  return server.fetch(`/api/admin${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function register(server: TestLocus, deviceId: string, extra: object = {}) {
  const res = await admin(server, "/devices", "POST", { deviceId, ...extra });
  expect(res.status).toBe(201);
  return (await res.json()) as AddDeviceReply;
}

async function fleet(server: TestLocus, cookie?: string) {
  const res = await server.fetch("/api/devices", cookie ? { headers: { cookie } } : {});
  return ((await res.json()) as DevicesReply).devices;
}

/** A viewer with the given grants, signed in; returns its session cookie. */
async function viewer(server: TestLocus, name: string, grants: object): Promise<string> {
  const password = "viewer-password";
  const res = await admin(server, "/users", "POST", { name, role: "viewer", password, ...grants });
  expect(res.status).toBe(201);
  return signIn(server.url, name, password);
}

describe("device names", () => {
  it("shows a new display name in the admin list, /api/devices and open dashboards; null shows the id", async () => {
    const server = await bed.start({ openRegistration: false });
    const { token } = await register(server, "van-7");
    const dashboard = bed.dashboard();
    await waitFor(() => dashboard.snapshots.length > 0, { what: "snapshot" });

    const renamed = await admin(server, "/devices/van-7", "PATCH", { name: "Delivery van 7" });
    expect(await renamed.json()).toMatchObject({ deviceId: "van-7", name: "Delivery van 7" });
    expect((await fleet(server)).find((d) => d.id === "van-7")).toMatchObject({
      name: "Delivery van 7",
    });
    await waitFor(
      () =>
        dashboard.batches.some((b) =>
          b.batch.devices.some((d) => d.id === "van-7" && d.name === "Delivery van 7"),
        ),
      { what: "the new name on the dashboard" },
    );
    // Reporting does not lose the name.
    await report(bed.track(await connectDevice(server.url, "van-7", token)), makePosition());
    expect((await fleet(server)).find((d) => d.id === "van-7")?.name).toBe("Delivery van 7");

    await admin(server, "/devices/van-7", "PATCH", { name: null });
    expect((await fleet(server)).find((d) => d.id === "van-7")?.name).toBeUndefined();
  });

  it("answers a bad name, an unknown group or an unknown field with a 400 naming it", async () => {
    const server = await bed.start();
    await register(server, "van-1");
    const cases: [unknown, RegExp][] = [
      [{ name: " padded" }, /^name: must not start or end with a space/],
      [{ name: "x".repeat(65) }, /^name: must be at most 64 characters/],
      [{ name: "a,b" }, /^name: must not contain control characters or commas/],
      [{ groups: ["nowhere"] }, /^groups: no group named "nowhere"/],
      [{ colour: "red" }, /^colour: is not a field of this request/],
    ];
    for (const [body, message] of cases) {
      const res = await admin(server, "/devices/van-1", "PATCH", body);
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toMatch(message);
    }
  });
});

describe("removing a device", () => {
  it("names the positions that will go, then removes them: its connection ends, dashboards drop it, it is refused", async () => {
    const server = await bed.start({ openRegistration: false });
    const { token } = await register(server, "old-truck");
    const truck = bed.track(await connectDevice(server.url, "old-truck", token));
    await report(truck, [makePosition(), makePosition(), makePosition()]);
    const dashboard = bed.dashboard();
    await waitFor(() => dashboard.latest("old-truck"), { what: "the truck on the dashboard" });

    const detail = (await (await admin(server, "/devices/old-truck")).json()) as AdminDeviceDetail;
    expect(detail).toMatchObject({ deviceId: "old-truck", positions: 3 });
    const disconnected = new Promise((resolve) => truck.once("disconnect", resolve));
    const removed = await admin(server, "/devices/old-truck", "DELETE");
    expect(await removed.json()).toEqual({ deviceId: "old-truck", positionsRemoved: 3 });
    await disconnected;
    await waitFor(() => dashboard.batches.some((b) => b.batch.removed?.includes("old-truck")), {
      what: "the removal on the dashboard",
    });
    expect((await fleet(server)).map((d) => d.id)).not.toContain("old-truck");
    expect((await server.fetch("/api/devices/old-truck/positions")).status).toBe(404);
    expect((await admin(server, "/devices/old-truck")).status).toBe(404);
    await expect(connectDevice(server.url, "old-truck", token)).rejects.toMatchObject({
      data: { code: "unknown_device" },
    });
    expect((await admin(server, "/devices/old-truck", "DELETE")).status).toBe(404);
  });
});

describe("groups", () => {
  it("lets a viewer granted a group see its present and future members, and no longer one taken out", async () => {
    const server = await bed.start({ openRegistration: false });
    expect((await admin(server, "/groups", "POST", { name: "Berlin vans" })).status).toBe(201);
    expect((await admin(server, "/groups", "POST", { name: "Berlin vans" })).status).toBe(409);
    const a = await register(server, "van-a", { groups: ["Berlin vans"] });
    const b = await register(server, "van-b");
    const cookie = await viewer(server, "vera", { devices: [], groups: ["Berlin vans"] });
    const vera = bed.track(new Dashboard(server.url, cookie));
    await waitFor(() => vera.snapshots.length > 0, { what: "vera's snapshot" });
    expect(vera.snapshots[0]!.devices.map((d) => d.id)).toEqual(["van-a"]);
    expect((await fleet(server, cookie)).map((d) => d.id)).toEqual(["van-a"]);

    // A future member: visible at once over REST, and live after the feed starts over (the
    // dashboard reconnects by itself; so does this one).
    vera.socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") vera.socket.connect();
    });
    const joined = await admin(server, "/devices/van-b", "PATCH", { groups: ["Berlin vans"] });
    expect(((await joined.json()) as AdminDevice).groups).toEqual(["Berlin vans"]);
    expect((await fleet(server, cookie)).map((d) => d.id).sort()).toEqual(["van-a", "van-b"]);
    await waitFor(() => vera.snapshots.at(-1)!.devices.some((d) => d.id === "van-b"), {
      what: "van-b in a new snapshot",
    });
    const vanB = bed.track(await connectDevice(server.url, "van-b", b.token));
    const fix = makePosition();
    await report(vanB, fix);
    await waitFor(() => vera.latest("van-b")?.ts === fix.ts, { what: "van-b's fix for vera" });

    // Taken out of the group: gone from REST and from the live feed.
    await admin(server, "/devices/van-a", "PATCH", { groups: [] });
    expect(
      (await server.fetch("/api/devices/van-a/positions", { headers: { cookie } })).status,
    ).toBe(404);
    await waitFor(() => !vera.snapshots.at(-1)!.devices.some((d) => d.id === "van-a"), {
      what: "van-a gone from vera's snapshot",
    });
    const vanA = bed.track(await connectDevice(server.url, "van-a", a.token));
    await report(vanA, makePosition());
    await new Promise((r) => setTimeout(r, 300));
    expect(vera.batches.some((x) => x.batch.devices.some((d) => d.id === "van-a"))).toBe(false);

    const groups = await (await admin(server, "/groups")).json();
    expect(groups.groups).toEqual([
      { name: "Berlin vans", createdAt: expect.any(Number), devices: ["van-b"] },
    ]);
  });
});

describe("the CLI", () => {
  it("renames, groups and removes devices with the API's rules; removal names the count and wants --yes", async () => {
    const server = await bed.start({ openRegistration: true });
    await report(bed.track(await connectDevice(server.url, "cli-car")), [
      makePosition(),
      makePosition(),
    ]);
    expect(await runCli(server.db, "device", "rename", "cli-car", "Red car")).toMatch(
      /cli-car is now shown as "Red car"/,
    );
    await expect(runCli(server.db, "device", "groups", "cli-car", "fleet")).rejects.toThrow(
      /groups: no group named "fleet"/,
    );
    await runCli(server.db, "group", "add", "fleet");
    await runCli(server.db, "device", "groups", "cli-car", "fleet");
    expect(await runCli(server.db, "group", "list")).toMatch(/^fleet\tcli-car$/m);
    const listed = JSON.parse(await runCli(server.db, "device", "list", "--json"));
    expect(listed).toContainEqual(
      expect.objectContaining({ deviceId: "cli-car", name: "Red car", groups: ["fleet"] }),
    );

    await expect(runCli(server.db, "device", "remove", "cli-car")).rejects.toThrow(
      /cli-car has 2 stored positions; run again with --yes/,
    );
    expect(await runCli(server.db, "device", "remove", "cli-car", "--yes")).toMatch(
      /cli-car removed with 2 positions/,
    );
    expect((await server.fetch("/api/devices/cli-car/positions")).status).toBe(404);
  });
});
