import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import {
  Dashboard,
  makePosition,
  postLogin,
  report,
  signIn,
  TEST_ADMIN_PASSWORD,
  useTestBed,
  waitFor,
} from "../support/locus.ts";

const bed = useTestBed();

const login = (username: string, password: string) => postLogin(bed.server.url, username, password);

const anonymous = (path: string) => fetch(`${bed.server.url}${path}`);

/** The admin adds a viewer granted `devices` through the admin API; returns their cookie. */
async function viewer(name: string, devices: string[]): Promise<string> {
  const res = await bed.server.fetch("/api/admin/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, role: "viewer", devices }),
  });
  expect(res.status).toBe(201);
  const { password } = (await res.json()) as { password: string };
  return signIn(bed.server.url, name, password);
}

function liveRefusal(headers: Record<string, string>, auth?: { token: string }): Promise<unknown> {
  const socket = bed.track(
    io(`${bed.server.url}/live`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      extraHeaders: headers,
      auth,
    }),
  );
  return new Promise((resolve) => {
    socket.once("connect", () => resolve("connected"));
    socket.once("connect_error", (err: Error & { data?: unknown }) => resolve(err.data));
  });
}

describe("signing in", () => {
  it("gives the first-run admin an HttpOnly, SameSite=Strict session cookie", async () => {
    await bed.start();
    const res = await login("admin", TEST_ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: { name: "admin", role: "admin" } });
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^locus_session=lcs_[\w-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
  });

  it("refuses a wrong password or user with the same answer", async () => {
    await bed.start();
    for (const [user, password] of [
      ["admin", "nope"],
      ["nobody", TEST_ADMIN_PASSWORD],
    ]) {
      const res = await login(user!, password!);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { code: "invalid_credentials", message: "wrong user name or password" },
      });
    }
  });

  it("limits brute force: after a burst of attempts even the right password waits", async () => {
    await bed.start();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await login("admin", `guess-${i}`)).status);
    // Burst of 5 per address and per name; the test bed's own sign-in already used one.
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const res = await login("admin", TEST_ADMIN_PASSWORD);
    expect(res.status).toBe(429);
    expect((await res.json()).error.message).toMatch(/try again in \d+ s/);
  });

  it("ends a session on sign-out and when it expires", async () => {
    let now = Date.now();
    await bed.start({ sessionTtlHours: 1 }, { clock: { now: () => now } });
    const cookie = await signIn(bed.server.url, "admin", TEST_ADMIN_PASSWORD);
    const me = () =>
      fetch(`${bed.server.url}/api/session`, { headers: { cookie } }).then((r) => r.status);
    expect(await me()).toBe(200);
    now += 3_600_001;
    expect(await me()).toBe(401);

    const second = await signIn(bed.server.url, "admin", TEST_ADMIN_PASSWORD);
    await fetch(`${bed.server.url}/api/session`, { method: "DELETE", headers: { cookie: second } });
    expect(
      (await fetch(`${bed.server.url}/api/devices`, { headers: { cookie: second } })).status,
    ).toBe(401);
  });
});

describe("what needs a user", () => {
  it("answers the API and the live feed with 401 / unauthorized without one", async () => {
    await bed.start();
    expect((await anonymous("/api/devices")).status).toBe(401);
    expect((await anonymous("/api/devices/x/positions")).status).toBe(401);
    expect((await anonymous("/api/admin/users")).status).toBe(401);
    expect((await anonymous("/api/health")).status).toBe(200);
    expect(await liveRefusal({})).toEqual({ code: "unauthorized", message: "sign in first" });
    expect(await liveRefusal({ cookie: "locus_session=lcs_forged" })).toMatchObject({
      code: "unauthorized",
    });
  });

  it("accepts an API token from the CLI as a bearer token, on REST and on the live feed", async () => {
    await bed.start();
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--import",
      "tsx",
      "server/transports/cli/locus.ts",
      "user",
      "token",
      "admin",
      "--db",
      bed.server.db,
    ]);
    const token = stdout.trim();
    expect(token).toMatch(/^lca_/);
    const res = await anonymous("/api/devices").then(() =>
      fetch(`${bed.server.url}/api/devices`, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(res.status).toBe(200);
    expect(await liveRefusal({}, { token })).toBe("connected");
    const wrong = await fetch(`${bed.server.url}/api/devices`, {
      headers: { authorization: "Bearer lca_x" },
    });
    expect(wrong.status).toBe(401);
  });
});

describe("viewers", () => {
  it("see only granted devices over REST, and cannot tell the others exist", async () => {
    await bed.start();
    for (const id of ["granted", "hidden"]) await report(await bed.device(id), makePosition());
    const cookie = await viewer("vera", ["granted"]);
    const get = (path: string) => fetch(`${bed.server.url}${path}`, { headers: { cookie } });

    const devices = await get("/api/devices").then((r) => r.json());
    expect(devices.devices.map((d: { id: string }) => d.id)).toEqual(["granted"]);
    expect((await get("/api/devices/granted/positions")).status).toBe(200);
    const hidden = await get("/api/devices/hidden/positions");
    const unknown = await get("/api/devices/no-such-device/positions");
    expect(hidden.status).toBe(404);
    expect((await hidden.json()).error.message).toBe('no device "hidden"');
    expect(unknown.status).toBe(404);
  });

  it("never receive positions of other devices on the live feed", async () => {
    await bed.start({ tickMs: 50 });
    const granted = await bed.device("granted");
    const hidden = await bed.device("hidden");
    await report(hidden, makePosition());
    const cookie = await viewer("vera", ["granted"]);
    const vera = bed.track(new Dashboard(bed.server.url, cookie));
    const admin = bed.dashboard();
    await waitFor(() => vera.snapshots[0] && admin.snapshots[0]);

    for (let i = 0; i < 5; i++) {
      await report(granted, makePosition());
      await report(hidden, makePosition());
    }
    await waitFor(() => admin.batches.some((b) => b.batch.devices.some((d) => d.id === "hidden")));
    await waitFor(() => vera.batches.length > 0);

    expect(vera.snapshots[0]!.devices.map((d) => d.id)).toEqual([]);
    const seen = new Set(vera.batches.flatMap((b) => b.batch.devices.map((d) => d.id)));
    expect([...seen]).toEqual(["granted"]);
  });

  it("are refused the admin API", async () => {
    await bed.start();
    const cookie = await viewer("vera", []);
    for (const path of ["/api/admin/users", "/api/admin/devices"]) {
      const res = await fetch(`${bed.server.url}${path}`, { headers: { cookie } });
      expect(res.status).toBe(403);
    }
  });
});

describe("admin API", () => {
  it("adds a device whose token then works at the device handshake", async () => {
    await bed.start({ openRegistration: false });
    const res = await bed.server.fetch("/api/admin/devices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ deviceId: "truck-17" }),
    });
    expect(res.status).toBe(201);
    const { token } = await res.json();
    const truck = await bed.device("truck-17", token);
    expect(await report(truck, makePosition())).toMatchObject({ ok: true, accepted: 1 });
  });

  it.each([
    ["/api/admin/devices", { deviceId: "bad id" }, /^deviceId: must be 1–64/],
    [
      "/api/admin/users",
      { name: "x", role: "root", devices: "all" },
      /^role: must be "admin" or "viewer"/,
    ],
    [
      "/api/admin/users",
      { name: "x", role: "viewer", devices: "all", password: "short" },
      /^password: /,
    ],
  ])("answers a bad %s body with a 400 naming the field", async (path, body, message) => {
    await bed.start();
    const res = await bed.server.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(message);
  });

  it("refuses a second user with the same name", async () => {
    await bed.start();
    await viewer("vera", []);
    const res = await bed.server.fetch("/api/admin/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "vera", role: "viewer", devices: "all" }),
    });
    expect(res.status).toBe(409);
  });
});
