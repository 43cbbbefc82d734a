import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdminUser } from "../../protocol/admin.ts";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import {
  connectDevice,
  makePosition,
  report,
  signIn,
  startTestLocus,
  type DeviceSocket,
  type TestLocus,
} from "../support/locus.ts";

// Device management from the admin panel (issue #12), watched by other dashboards: names, groups,
// removal, and registered devices that never reported.

/** Fixes sim-0001 has stored when it is removed: the confirm must say so. */
const SIM_FIXES = 120;
const VIEWER = { name: "vera", password: "vera-password-1" };

let server: TestLocus;
let browser: Browser;
/** The admin managing devices. */
let admin: Page;
/** A second admin dashboard, only watching. */
let watcher: Page;
const sockets: DeviceSocket[] = [];

async function reportFixes(deviceId: string, count: number): Promise<void> {
  const socket = await connectDevice(server.url, deviceId);
  sockets.push(socket);
  for (let sent = 0; sent < count; sent += 40) {
    const batch = Array.from({ length: Math.min(40, count - sent) }, (_, i) =>
      makePosition({ lat: 52.52 + (sent + i) * 1e-5, speed: 0, course: undefined }),
    );
    const ack = await report(socket, batch);
    expect(ack).toMatchObject({ ok: true, accepted: batch.length });
  }
}

async function openDashboard(page: Page): Promise<Page> {
  await page.goto(server.url);
  await page.locator("[data-testid=connection][data-state=live]").waitFor({ timeout: 10_000 });
  return page;
}

const row = (page: Page, deviceId: string) =>
  page.locator(`[data-testid=vehicle-row][data-device-id="${deviceId}"]`);
const adminRow = (deviceId: string) =>
  admin.locator(`[data-testid=admin-device-row][data-device-id="${deviceId}"]`);

async function openManage(tab: "devices" | "groups" | "users"): Promise<void> {
  if (!(await admin.getByTestId("admin-panel").isVisible())) {
    await admin.getByTestId("admin-open").click();
    await admin.getByTestId("admin-panel").waitFor({ state: "visible", timeout: 5_000 });
  }
  await admin.getByTestId(`admin-tab-${tab}`).click();
}

async function closeManage(): Promise<void> {
  await admin.getByRole("button", { name: "Close", exact: true }).click();
  await admin.getByTestId("admin-panel").waitFor({ state: "detached", timeout: 5_000 });
}

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ tickMs: 100 });
  await reportFixes("sim-0001", SIM_FIXES);
  await reportFixes("van-7", 3);
  // Registered, never reported.
  const added = await server.fetch("/api/admin/devices", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ deviceId: "spare-1" }),
  });
  expect(added.status).toBe(201);
  const viewer = await server.fetch("/api/admin/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...VIEWER, role: "viewer", devices: [] }),
  });
  expect(viewer.status).toBe(201);

  browser = await launchChromium();
  const viewport = { width: 1440, height: 900 };
  admin = await openDashboard((await adminPage(browser, server, { viewport })).page);
  watcher = await openDashboard((await adminPage(browser, server, { viewport })).page);
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await browser?.close();
  await server?.dispose();
});

describe("device management in Chromium", () => {
  it("lists a registered device that never reported as such, off the map", async () => {
    const spare = row(admin, "spare-1");
    await spare.waitFor({ timeout: 10_000 });
    expect(await spare.textContent()).toContain("never reported");
    // Two vehicles on the map; the spare counts as offline, never as moving.
    await expect
      .poll(() => admin.getByTestId("vehicle-canvas").getAttribute("data-drawn"))
      .toBe("2");
    expect(await admin.getByTestId("vehicle-count").textContent()).toBe("3");
    expect(await admin.getByTestId("count-moving").textContent()).toBe("0");

    await spare.click();
    const details = admin.getByTestId("details");
    await details.waitFor({ state: "visible", timeout: 5_000 });
    expect(await details.getByTestId("details-never").textContent()).toMatch(/not reported yet/);
    await admin.screenshot({ path: `${SCREENSHOTS}/details-never-reported.png` });
    await admin.keyboard.press("Escape");
    await details.waitFor({ state: "detached", timeout: 5_000 });
  });

  it("adds a group, and shows the server's reason when a name breaks its rules", async () => {
    await openManage("groups");
    const name = admin.getByTestId("admin-group-name");
    await name.fill("north,south");
    await admin.getByTestId("admin-group-add").click();
    const message = admin.getByTestId("admin-group-message");
    await expect.poll(() => message.textContent(), { timeout: 5_000 }).toMatch(/comma/);
    expect(await message.getAttribute("role")).toBe("alert");

    await name.fill("north");
    await admin.getByTestId("admin-group-add").click();
    await expect
      .poll(() => admin.getByTestId("admin-group-list").textContent(), { timeout: 5_000 })
      .toContain("north");
    expect(await name.inputValue()).toBe("");
    // The same name again: the server's conflict, inline.
    await name.fill("north");
    await admin.getByTestId("admin-group-add").click();
    await expect.poll(() => message.textContent(), { timeout: 5_000 }).toMatch(/already exists/);
  });

  it("grants a viewer a group, then the viewer sees a device put in that group", async () => {
    await openManage("users");
    const vera = admin.getByTestId("admin-user-row").filter({ hasText: VIEWER.name });
    await vera.getByTestId("admin-user-edit").click();
    await vera.getByTestId("admin-user-edit-group-north").check();
    await vera.getByTestId("admin-user-edit-save").click();
    await expect
      .poll(() => vera.getByTestId("admin-user-grant").textContent(), { timeout: 5_000 })
      .toContain("group north");
    const users = (await (await server.fetch("/api/admin/users")).json()) as {
      users: AdminUser[];
    };
    expect(users.users.find((u) => u.name === VIEWER.name)).toMatchObject({
      devices: [],
      groups: ["north"],
    });

    // Vera signs in: the group is empty so far.
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const cookie = await signIn(server.url, VIEWER.name, VIEWER.password);
    const [key, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name: key, value, url: server.url }]);
    const viewer = await context.newPage();
    await viewer.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
    await openDashboard(viewer);
    expect(await viewer.getByTestId("vehicle-row").count()).toBe(0);

    // The admin renames van-7 and puts it in "north".
    await openManage("devices");
    await adminRow("van-7").getByTestId("admin-device-edit").click();
    await adminRow("van-7").getByTestId("admin-device-name").fill("Delivery van");
    await adminRow("van-7").getByTestId("admin-device-group-north").check();
    // Its own speed limit, instead of the global one (issue #14).
    await adminRow("van-7").getByTestId("admin-device-speed").fill("80");
    await admin.screenshot({ path: `${SCREENSHOTS}/admin-device-edit.png` });
    await adminRow("van-7").getByTestId("admin-device-save").click();
    await expect
      .poll(() => admin.getByTestId("admin-device-message").textContent(), { timeout: 5_000 })
      .toContain("Delivery van");
    expect(await adminRow("van-7").getByTestId("admin-device-groups").textContent()).toContain(
      "north",
    );
    expect(await adminRow("van-7").getByTestId("admin-device-speed-limit").textContent()).toBe(
      "limit 80 km/h",
    );
    const stored = await server.fetch("/api/admin/devices/van-7");
    expect((await stored.json()).speedLimitKmh).toBe(80);

    // Vera now sees it, by its new name; so does every open dashboard.
    await row(viewer, "van-7").waitFor({ timeout: 10_000 });
    expect(await row(viewer, "van-7").getByTestId("vehicle-label").textContent()).toBe(
      "Delivery van",
    );
    expect(await viewer.getByTestId("vehicle-row").count()).toBe(1);
    await expect
      .poll(() => row(watcher, "van-7").getByTestId("vehicle-label").textContent(), {
        timeout: 10_000,
      })
      .toBe("Delivery van");
    await watcher.getByTestId("search").fill("delivery");
    await expect.poll(() => watcher.getByTestId("vehicle-row").count()).toBe(1);
    await watcher.getByTestId("search").fill("");
    await context.close();
  });

  it("removes a device after a confirm that counts its positions; other dashboards drop it", async () => {
    // The watcher has it selected: its card must go with it.
    await row(watcher, "sim-0001").click();
    await watcher.getByTestId("details").waitFor({ state: "visible", timeout: 5_000 });

    await openManage("devices");
    await adminRow("sim-0001").getByTestId("admin-device-remove").click();
    const question = adminRow("sim-0001").getByTestId("admin-device-remove-confirm-question");
    await question.waitFor({ timeout: 5_000 });
    expect(await question.textContent()).toBe(
      `Remove sim-0001 and its ${SIM_FIXES} positions? This cannot be undone.`,
    );
    await admin.screenshot({ path: `${SCREENSHOTS}/admin-device-remove.png` });
    // Escape takes the question back and leaves the dialog open.
    await admin.keyboard.press("Escape");
    await question.waitFor({ state: "detached", timeout: 5_000 });
    expect(await admin.getByTestId("admin-panel").isVisible()).toBe(true);

    // By keyboard: focus lands on Cancel; the confirm button is one step back.
    await adminRow("sim-0001").getByTestId("admin-device-remove").click();
    await question.waitFor({ timeout: 5_000 });
    await expect
      .poll(() => admin.evaluate(() => document.activeElement?.textContent?.trim()))
      .toBe("Cancel");
    await admin.keyboard.press("Shift+Tab");
    await admin.keyboard.press("Enter");
    await expect
      .poll(() => admin.getByTestId("admin-device-message").textContent(), { timeout: 5_000 })
      .toBe(`sim-0001 removed with ${SIM_FIXES} positions.`);
    expect(await adminRow("sim-0001").count()).toBe(0);

    await row(watcher, "sim-0001").waitFor({ state: "detached", timeout: 10_000 });
    await watcher.getByTestId("details").waitFor({ state: "detached", timeout: 5_000 });
    expect(await watcher.getByTestId("vehicle-canvas").getAttribute("data-drawn")).toBe("1");
    expect(new URL(watcher.url()).search).not.toContain("sim-0001");
    await closeManage();
    await row(admin, "sim-0001").waitFor({ state: "detached", timeout: 10_000 });
  });

  it("looks right at desktop and phone widths", async () => {
    await admin.screenshot({ path: `${SCREENSHOTS}/vehicle-list-named.png` });
    await openManage("devices");
    await admin.screenshot({ path: `${SCREENSHOTS}/admin-devices-1440.png` });
    await admin.setViewportSize({ width: 390, height: 844 });
    await admin.screenshot({ path: `${SCREENSHOTS}/admin-devices-390.png` });
    await adminRow("van-7").getByTestId("admin-device-edit").click();
    await admin.screenshot({ path: `${SCREENSHOTS}/admin-device-edit-390.png` });
    await openManage("groups");
    await admin.screenshot({ path: `${SCREENSHOTS}/admin-groups-390.png` });
    await closeManage();
    // The drawer slides for 0.2 s: let it settle before each picture.
    await admin.getByRole("button", { name: /Vehicles/ }).click();
    await admin.waitForTimeout(400);
    await admin.screenshot({ path: `${SCREENSHOTS}/vehicle-list-390.png` });
    await row(admin, "van-7").click();
    await admin.getByTestId("details").waitFor({ state: "visible", timeout: 5_000 });
    await admin.waitForTimeout(400);
    await admin.screenshot({ path: `${SCREENSHOTS}/details-named-390.png` });
  });
});
