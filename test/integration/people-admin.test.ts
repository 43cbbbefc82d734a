import { describe, expect, it } from "vitest";
import { WS_CLOSE } from "../../protocol/ws.ts";
import {
  Dashboard,
  makePosition,
  postLogin,
  report,
  runCli,
  signIn,
  TEST_ADMIN_PASSWORD,
  useTestBed,
  waitFor,
} from "../support/locus.ts";
import { WsClient, wsUrl } from "../support/ws.ts";

/** An admin changing someone's access: their grants, a new password, or removing them. */
const bed = useTestBed();

const login = (username: string, password: string) =>
  postLogin(bed.server.url, username, password).then((r) => r.status);

const admin = (path: string, method: string, body?: unknown) =>
  bed.server.fetch(`/api/admin/users${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A viewer added through the admin API, signed in, with a dashboard open on the live feed. */
async function vera(
  devices: "all" | string[] = "all",
): Promise<{ password: string; cookie: string; dashboard: Dashboard }> {
  const res = await admin("", "POST", { name: "vera", role: "viewer", devices });
  expect(res.status).toBe(201);
  const { password } = (await res.json()) as { password: string };
  const cookie = await signIn(bed.server.url, "vera", password);
  const dashboard = bed.track(new Dashboard(bed.server.url, cookie));
  await waitFor(() => dashboard.snapshots.length > 0);
  return { password, cookie, dashboard };
}

const disconnected = (dashboard: Dashboard) =>
  new Promise<string>((resolve) => dashboard.socket.once("disconnect", resolve));

const status = (path: string, headers: Record<string, string>) =>
  fetch(`${bed.server.url}${path}`, { headers }).then((r) => r.status);

describe("changing a user's role and grants", () => {
  it("applies to REST at once and ends their feeds, which come back under the new grants", async () => {
    await bed.start();
    for (const id of ["van-a", "van-b"]) await report(await bed.device(id), makePosition());
    const { cookie, dashboard } = await vera(["van-a"]);
    expect(dashboard.snapshots[0]!.devices.map((d) => d.id)).toEqual(["van-a"]);
    const token = (await runCli(bed.server.db, "user", "token", "vera")).trim();
    const viewer = bed.track(await WsClient.open(wsUrl(bed.server.url, `?token=${token}`)));
    await viewer.frame("snapshot");
    const dropped = disconnected(dashboard);

    const res = await admin("/vera", "PATCH", { role: "viewer", devices: ["van-b"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: "vera",
      role: "viewer",
      devices: ["van-b"],
      groups: [],
    });

    const ids = (r: { devices: { id: string }[] }) => r.devices.map((d) => d.id);
    const rest = await fetch(`${bed.server.url}/api/devices`, { headers: { cookie } });
    expect(ids(await rest.json())).toEqual(["van-b"]);
    expect(await dropped).toBe("io server disconnect");
    expect(await viewer.waitClosed()).toEqual({
      code: WS_CLOSE.accessChanged,
      reason: "access changed: reconnect",
    });
    // The session still holds: reconnecting (as the dashboard page does) gives the new view.
    dashboard.socket.connect();
    await waitFor(() => dashboard.snapshots.length === 2);
    expect(ids(dashboard.snapshots[1]!)).toEqual(["van-b"]);

    // Made an admin, vera sees everything, whatever list was sent.
    const promoted = await admin("/vera", "PATCH", { role: "admin", devices: [] });
    expect(await promoted.json()).toEqual({
      name: "vera",
      role: "admin",
      devices: "all",
      groups: [],
    });
  });

  it("refuses to take away your own admin role, and names the field of a bad body", async () => {
    await bed.start();
    const self = await admin("/admin", "PATCH", { role: "viewer", devices: "all" });
    expect(self.status).toBe(409);
    expect((await self.json()).error.message).toBe("you cannot take away your own admin role");
    await vera();
    const bad = await admin("/vera", "PATCH", { role: "viewer", devices: "some" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toBe('devices: must be "all" or a list of device ids');
    const missing = await admin("/vera", "PATCH", { devices: "all" });
    expect((await missing.json()).error.message).toMatch(/^role: /);
  });
});

describe("a new password for a user", () => {
  it("ends their sessions and live feed; only the new password signs in", async () => {
    await bed.start();
    const { password: old, cookie, dashboard } = await vera();
    const dropped = disconnected(dashboard);

    const res = await admin("/vera/password", "POST", {});
    expect(res.status).toBe(200);
    const reply = (await res.json()) as { name: string; password: string };
    expect(reply.name).toBe("vera");
    expect(reply.password).toMatch(/^[\w-]{16}$/);

    expect(await dropped).toBe("io server disconnect");
    expect(await status("/api/devices", { cookie })).toBe(401);
    expect(await login("vera", old)).toBe(401);
    expect(await login("vera", reply.password)).toBe(200);
  });

  it("takes a chosen password, and names the field of a bad one", async () => {
    await bed.start();
    await vera();
    const short = await admin("/vera/password", "POST", { password: "short" });
    expect(short.status).toBe(400);
    expect((await short.json()).error.message).toBe("password: must be at least 10 characters");
    const chosen = await admin("/vera/password", "POST", { password: "correct horse battery" });
    expect(await chosen.json()).toEqual({ name: "vera", password: "correct horse battery" });
    expect(await login("vera", "correct horse battery")).toBe(200);
  });
});

describe("removing a user", () => {
  it("ends their sessions, API tokens, dashboards and plain WebSocket viewers, and frees the name", async () => {
    await bed.start();
    const { cookie, dashboard } = await vera();
    const token = (await runCli(bed.server.db, "user", "token", "vera")).trim();
    const viewer = bed.track(await WsClient.open(wsUrl(bed.server.url, `?token=${token}`)));
    await viewer.frame("snapshot");
    const dropped = disconnected(dashboard);

    expect((await admin("/vera", "DELETE")).status).toBe(204);

    expect(await dropped).toBe("io server disconnect");
    expect(await viewer.waitClosed()).toEqual({
      code: WS_CLOSE.unauthorized,
      reason: "signed out: access withdrawn",
    });
    expect(await status("/api/devices", { cookie })).toBe(401);
    expect(await status("/api/devices", { authorization: `Bearer ${token}` })).toBe(401);
    const list = (await (await admin("", "GET")).json()) as { users: { name: string }[] };
    expect(list.users.map((u) => u.name)).toEqual(["admin"]);
    // The name is free again, for someone new: nothing of the old grants or sessions carries over.
    expect((await admin("", "POST", { name: "vera", role: "viewer", devices: [] })).status).toBe(
      201,
    );
    expect(await status("/api/devices", { cookie })).toBe(401);
  });

  it("refuses to remove yourself, and answers an unknown user with 404", async () => {
    await bed.start();
    const self = await admin("/admin", "DELETE");
    expect(self.status).toBe(409);
    expect((await self.json()).error.message).toBe("you cannot remove yourself; ask another admin");
    expect(await login("admin", TEST_ADMIN_PASSWORD)).toBe(200);
    for (const [path, method] of [
      ["/nobody", "DELETE"],
      ["/nobody/password", "POST"],
      ["/not%20a%20name", "DELETE"],
    ] as const) {
      const res = await admin(path, method, method === "POST" ? {} : undefined);
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.code).toBe("not_found");
    }
  });
});

describe("the CLI", () => {
  it("resets a password and removes a user, but never the last admin", async () => {
    await bed.start();
    await vera();
    const reset = JSON.parse(
      await runCli(bed.server.db, "user", "reset-password", "vera", "--json"),
    ) as { name: string; password: string };
    expect(await login("vera", reset.password)).toBe(200);

    expect(await runCli(bed.server.db, "user", "remove", "vera")).toBe("vera removed\n");
    expect(await login("vera", reset.password)).toBe(401);
    await expect(runCli(bed.server.db, "user", "remove", "admin")).rejects.toThrow(
      /"admin" is the last admin and cannot be removed; add another admin first/,
    );
  });
});
