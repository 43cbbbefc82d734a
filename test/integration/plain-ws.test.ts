import { describe, expect, it } from "vitest";
import { WS_CLOSE } from "../../protocol/ws.ts";
import {
  addDevicesWithCli,
  makePosition,
  report,
  runCli,
  storedRows,
  useTestBed,
  waitFor,
} from "../support/locus.ts";
import { WsClient, wsUrl } from "../support/ws.ts";

const bed = useTestBed();
const open = (query = "", options = {}) =>
  WsClient.open(wsUrl(bed.server.url, query), options).then((c) => bed.track(c));

async function apiToken(user: string): Promise<string> {
  return (await runCli(bed.server.db, "user", "token", user)).trim();
}

describe("plain WebSocket: devices", () => {
  it("authenticates by query string and acks reports like socket.io, duplicates included", async () => {
    const server = await bed.start({ openRegistration: false });
    const { "ws-truck": token } = await addDevicesWithCli(server.db, ["ws-truck"]);
    const device = await open(`?deviceId=ws-truck&token=${token}`);
    expect(await device.frame("ready")).toEqual({
      type: "ready",
      role: "device",
      deviceId: "ws-truck",
    });

    const fix = makePosition({ lat: 50.1109 });
    expect(await device.report(1, [fix])).toEqual({
      type: "ack",
      id: 1,
      ok: true,
      accepted: 1,
      duplicates: 0,
      rejected: [],
    });
    expect(await device.report(2, fix)).toMatchObject({ id: 2, accepted: 0, duplicates: 1 });
    expect(await storedRows(server.db, "ws-truck")).toEqual([{ ts: fix.ts, lat: 50.1109 }]);
  });

  it("authenticates by a first auth frame, and rejects bad positions by index and field", async () => {
    const server = await bed.start({ openRegistration: false });
    const { bike: token } = await addDevicesWithCli(server.db, ["bike"]);
    const device = await open();
    device.send({ type: "position:report", id: "early", positions: [makePosition()] });
    expect(await device.frame("error")).toMatchObject({ id: "early", code: "not_authenticated" });

    device.send({ type: "auth", deviceId: "bike", token });
    await device.frame("ready");
    const good = makePosition();
    const ack = await device.report(7, [good, { ...makePosition(), lat: 91 }, { lat: 1 }]);
    expect(ack).toMatchObject({ ok: true, accepted: 1 });
    expect(ack.ok && ack.rejected).toEqual([
      { index: 1, field: "lat", message: "must be ≤ 90" },
      { index: 2, field: "ts", message: "is required" },
    ]);
    device.send({ type: "auth", deviceId: "bike", token });
    expect(await device.frame("error", (e) => e.id === undefined)).toMatchObject({
      code: "already_authenticated",
    });
    expect(await storedRows(server.db, "bike")).toEqual([{ ts: good.ts, lat: good.lat }]);
  });

  it("answers malformed frames with an error naming the field, and keeps the connection", async () => {
    await bed.start();
    const device = await open("?deviceId=sloppy");
    await device.frame("ready");
    const cases: [unknown, object][] = [
      ["not json", { code: "invalid_json" }],
      ["[1,2]", { code: "invalid_frame" }],
      [{ id: 1 }, { code: "invalid_frame", field: "type" }],
      [{ type: "position:update" }, { code: "unknown_type", field: "type" }],
      [
        { type: "position:report", id: -1, positions: [] },
        { code: "invalid_frame", field: "id" },
      ],
      [
        { type: "position:report", id: 3 },
        { code: "invalid_frame", field: "positions", id: 3 },
      ],
      [
        { type: "position:report", id: 4, positions: [], extra: true },
        {
          code: "invalid_frame",
          field: "extra",
          message: "extra is not a field of a position:report frame",
        },
      ],
    ];
    for (const [frame] of cases) device.send(frame);
    device.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await device.frame("error", () => device.frames.length >= cases.length + 2);
    const errors = device.frames.filter((f) => f.type === "error");
    cases.forEach(([, expected], i) => expect(errors[i]).toMatchObject(expected));
    expect(errors[cases.length]).toMatchObject({ code: "invalid_frame", message: /text frames/ });

    // An empty batch is the ingest's call, answered like socket.io's.
    expect(await device.report(5, [])).toMatchObject({
      ok: false,
      error: { code: "invalid_payload" },
    });
    expect(await device.report(6, makePosition())).toMatchObject({ ok: true, accepted: 1 });
  });

  it.each([
    ["a wrong token", "?deviceId=car&token=lct_wrong", "invalid_token"],
    ["no token", "?deviceId=car", "token_required"],
    ["an unregistered id", "?deviceId=stranger", "unknown_device"],
    ["an invalid id", "?deviceId=no%20spaces", "invalid_device_id"],
  ])("refuses a device with %s and closes with 4401", async (_name, query, code) => {
    const server = await bed.start({ openRegistration: false });
    await addDevicesWithCli(server.db, ["car"]);
    const device = await open(query);
    expect(await device.frame("error")).toMatchObject({ code });
    expect(await device.waitClosed()).toEqual({ code: WS_CLOSE.unauthorized, reason: code });
  });
});

describe("plain WebSocket: viewers", () => {
  it("gives a viewer with an API token a snapshot, then batches of what changed", async () => {
    await bed.start({ tickMs: 50 });
    const truck = await bed.device("truck-1");
    const first = makePosition({ lat: 52.1 });
    await report(truck, first);

    const viewer = await open(`?token=${await apiToken("admin")}`);
    expect(await viewer.frame("ready")).toEqual({ type: "ready", role: "viewer", user: "admin" });
    const snapshot = await viewer.frame("snapshot");
    expect(snapshot.devices).toEqual([expect.objectContaining({ id: "truck-1", position: first })]);

    const second = makePosition({ lat: 52.1001 });
    await report(truck, second);
    const batch = await viewer.frame("batch", (b) =>
      b.devices.some((d) => d.position?.ts === second.ts),
    );
    expect(batch.devices).toEqual([expect.objectContaining({ id: "truck-1", position: second })]);
  });

  it("sends a viewer only the devices granted to its user", async () => {
    const server = await bed.start({ tickMs: 50 });
    await runCli(server.db, "user", "add", "vera", "--devices", "granted");
    const viewer = await open();
    viewer.send({ type: "auth", token: await apiToken("vera") });
    await viewer.frame("snapshot");
    const granted = await bed.device("granted");
    const hidden = await bed.device("hidden");
    await report(hidden, makePosition());
    const fix = makePosition();
    await report(granted, fix);
    await viewer.frame("batch", (b) => b.devices.some((d) => d.position?.ts === fix.ts));
    await new Promise((r) => setTimeout(r, 150)); // a few more ticks
    const seen = viewer.frames.flatMap((f) =>
      f.type === "batch" || f.type === "snapshot" ? f.devices.map((d) => d.id) : [],
    );
    expect(new Set(seen)).toEqual(new Set(["granted"]));

    viewer.send({ type: "position:report", id: 1, positions: [makePosition()] });
    expect(await viewer.frame("error")).toMatchObject({ id: 1, code: "not_a_device" });
  });

  it("takes the dashboard's session cookie, and refuses an unknown API token", async () => {
    const server = await bed.start();
    const withCookie = await open("", { headers: { cookie: server.adminCookie } });
    expect(await withCookie.frame("ready")).toMatchObject({ role: "viewer", user: "admin" });
    const forged = await open("?token=lca_forged");
    expect(await forged.frame("error")).toMatchObject({ code: "unauthorized" });
    expect((await forged.waitClosed()).code).toBe(WS_CLOSE.unauthorized);
  });
});

describe("plain WebSocket: transport rules", () => {
  it("refuses browsers from other origins, as socket.io does", async () => {
    const server = await bed.start();
    await expect(open("?deviceId=x", { origin: "http://evil.example" })).rejects.toMatchObject({
      status: 403,
    });
    const host = new URL(server.url).host;
    expect(await open("?deviceId=x", { origin: `http://${host}` })).toBeInstanceOf(WsClient);
  });

  it("counts plain WebSocket and socket.io connections against the same per-address cap", async () => {
    await bed.start({ maxConnectionsPerIp: 2 });
    await bed.device("sio");
    await open("?deviceId=one");
    await expect(open("?deviceId=two")).rejects.toMatchObject({ status: 429 });
  });

  it("leaves socket.io working beside it, and is not cut by socket.io's stray-upgrade timer", async () => {
    const server = await bed.start({ tickMs: 50 });
    const dashboard = bed.dashboard();
    const sio = await bed.device("sio-device");
    const ws = await open("?deviceId=ws-device");
    await ws.frame("ready");
    // engine.io ends foreign upgrades that got no answer within 1 s: ours must outlive that.
    await new Promise((r) => setTimeout(r, 1300));
    const a = makePosition({ lat: 10 });
    const b = makePosition({ lat: 11 });
    expect(await report(sio, a)).toMatchObject({ accepted: 1 });
    expect(await ws.report(1, b)).toMatchObject({ accepted: 1 });
    expect(ws.closed).toBeNull();
    await waitFor(() => dashboard.latest("sio-device")?.ts === a.ts, { what: "socket.io fix" });
    await waitFor(() => dashboard.latest("ws-device")?.ts === b.ts, { what: "plain ws fix" });
    // A plain GET on /ws says what it is instead of serving the dashboard.
    expect((await fetch(`${server.url}/ws`)).status).toBe(426);
  });

  it("says goodbye with 1001 on shutdown", async () => {
    const server = await bed.start();
    const ws = await open("?deviceId=bye");
    await ws.frame("ready");
    await server.stop();
    expect((await ws.waitClosed()).code).toBe(WS_CLOSE.goingAway);
  });
});
