import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { startFleet } from "../../simulator/fleet.ts";
import { launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { startTestLocus, type TestLocus } from "../support/locus.ts";

const VEHICLES = 6;
/** The first-run admin's password (config `adminPassword`); the user is named `admin`. */
const ADMIN_PASSWORD = "test-admin-pass";

let server: TestLocus;
let fleet: ReturnType<typeof startFleet>;
let browser: Browser;
let page: Page;
/** Console reports of anything the strict CSP blocked (inline styles, scripts…). */
const cspViolations: string[] = [];

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ tickMs: 100, adminPassword: ADMIN_PASSWORD });
  fleet = startFleet({ url: server.url, vehicles: VEHICLES, intervalMs: 500, seed: 7 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  // No internet here: map tiles must fail fast rather than hang the page.
  await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
});

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await server?.dispose();
});

const drawn = () => page.getByTestId("vehicle-canvas").getAttribute("data-drawn").then(Number);
const connectionState = () => page.getByTestId("connection").getAttribute("data-state");

async function submitLogin(username: string, password: string): Promise<void> {
  await page.getByTestId("login-username").fill(username);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

describe("dashboard in Chromium", () => {
  it("asks for a password first and says when it is wrong", async () => {
    await page.goto(server.url);
    await page.getByTestId("login-form").waitFor({ state: "visible", timeout: 10_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/login.png` });
    // No map (and no live socket) before signing in.
    expect(await page.getByTestId("connection").count()).toBe(0);

    await submitLogin("admin", "not-the-password");
    const error = page.getByTestId("login-error");
    await error.waitFor({ state: "visible", timeout: 5_000 });
    expect(await error.textContent()).toMatch(/wrong username or password/i);
    expect(await page.getByTestId("login-form").isVisible()).toBe(true);
  });

  it("signs in, then shows the live fleet on the map and counts it", async () => {
    await submitLogin("admin", ADMIN_PASSWORD);
    await expect.poll(connectionState, { timeout: 10_000 }).toBe("live");
    expect(await page.getByTestId("login-form").count()).toBe(0);
    await expect
      .poll(() => page.getByTestId("vehicle-count").textContent().then(Number), { timeout: 10_000 })
      .toBe(VEHICLES);
    await expect.poll(drawn, { timeout: 10_000 }).toBe(VEHICLES);
    await expect.poll(() => page.getByTestId("vehicle-row").count()).toBe(VEHICLES);
  });

  it("moves a selected vehicle, follows it and draws its trail", async () => {
    const search = page.getByTestId("search");
    await search.fill("0002");
    const row = page.getByTestId("vehicle-row");
    await expect.poll(() => row.count()).toBe(1);
    await row.first().click();

    const details = page.getByTestId("details");
    await details.waitFor({ state: "visible", timeout: 5_000 });
    const where = async () =>
      `${await details.getByTestId("details-lat").textContent()},${await details.getByTestId("details-lon").textContent()}`;
    const first = await where();
    await expect.poll(where, { timeout: 10_000 }).not.toBe(first);

    const trail = page.locator("path.locus-trail");
    await expect.poll(() => trail.count(), { timeout: 10_000 }).toBe(1);
    // A trail of several fixes: an SVG path with more than one segment.
    await expect
      .poll(async () => ((await trail.getAttribute("d")) ?? "").split("L").length, {
        timeout: 10_000,
      })
      .toBeGreaterThan(2);
    expect(new URL(page.url()).search).toContain("0002");
    await page.screenshot({ path: `${SCREENSHOTS}/dashboard-selected.png` });
  });

  it("reconnects and resyncs after the link drops", async () => {
    // Closing the transport under the socket looks to the page like a lost network link.
    for (const socket of server.locus.app.io.of("/live").sockets.values()) socket.conn.close();
    const before = await page.getByTestId("details-lat").textContent();
    await expect.poll(connectionState, { timeout: 10_000 }).toBe("live");
    await expect.poll(drawn, { timeout: 10_000 }).toBe(VEHICLES);
    // Updates flow again after the resync: the selected vehicle keeps moving.
    await expect
      .poll(() => page.getByTestId("details-lat").textContent(), { timeout: 10_000 })
      .not.toBe(before);
  });

  it("lets the admin add a device and shows its token once", async () => {
    await page.getByTestId("admin-open").click();
    const panel = page.getByTestId("admin-panel");
    await panel.waitFor({ state: "visible", timeout: 5_000 });
    await page.getByTestId("admin-device-id").fill("e2e-van-1");
    await page.getByTestId("admin-device-add").click();
    const token = page.getByTestId("admin-device-token");
    await token.waitFor({ state: "visible", timeout: 5_000 });
    expect(await token.textContent()).toMatch(/^lct_/);
    await expect
      .poll(() => page.getByTestId("admin-device-list").textContent(), { timeout: 5_000 })
      .toContain("e2e-van-1");
    await page.screenshot({ path: `${SCREENSHOTS}/admin-panel.png` });

    // A phone app that cannot send the token may report by id once the admin allows it.
    const osmand = () =>
      fetch(`${server.url}/osmand?id=e2e-van-1&lat=52.5&lon=13.4`).then((r) => r.status);
    expect(await osmand()).toBe(401);
    const row = page.getByTestId("admin-device-list").locator("li", { hasText: "e2e-van-1" });
    await row.getByTestId("admin-device-id-only").check();
    await expect.poll(osmand, { timeout: 5_000 }).toBe(200);

    // Escape closes the dialog and nothing else: the selected vehicle stays selected.
    await page.keyboard.press("Escape");
    await panel.waitFor({ state: "detached", timeout: 5_000 });
    expect(await page.getByTestId("details").isVisible()).toBe(true);
  });

  it("lets the admin change a user's access, give them a new password and remove them", async () => {
    await page.getByTestId("admin-open").click();
    await page.getByTestId("admin-tab-users").click();
    await page.getByTestId("admin-user-name").fill("e2e-viewer");
    await page.getByTestId("admin-user-add").click();
    await page.getByTestId("admin-user-password").waitFor({ state: "visible", timeout: 5_000 });
    const rows = page.getByTestId("admin-user-row");
    const viewerRow = rows.filter({ hasText: "e2e-viewer" });
    await viewerRow.waitFor({ state: "visible", timeout: 5_000 });
    // No actions on the admin's own row: removing yourself could leave no admin at all.
    const ownRow = rows.filter({ hasText: "you" });
    expect(await ownRow.textContent()).toMatch(/^admin\b/);
    expect(await ownRow.getByTestId("admin-user-remove").count()).toBe(0);

    // Narrow the viewer to one vehicle.
    await viewerRow.getByTestId("admin-user-edit").click();
    await viewerRow.getByTestId("admin-user-edit-all").uncheck();
    await viewerRow.getByTestId("admin-user-edit-devices").fill("sim-0001, sim-0002");
    await page.screenshot({ path: `${SCREENSHOTS}/admin-users-access.png` });
    await viewerRow.getByTestId("admin-user-edit-save").click();
    await expect.poll(() => viewerRow.textContent()).toContain("sim-0001, sim-0002");
    const listed = await page.evaluate(() => fetch("/api/admin/users").then((r) => r.json()));
    expect(listed.users).toContainEqual({
      name: "e2e-viewer",
      role: "viewer",
      devices: ["sim-0001", "sim-0002"],
      groups: [],
    });

    await viewerRow.getByTestId("admin-user-reset").click();
    const secret = page.getByTestId("admin-user-new-password");
    await secret.waitFor({ state: "visible", timeout: 5_000 });
    const password = (await secret.textContent()) ?? "";
    const signIn = (pw: string) =>
      fetch(`${server.url}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "e2e-viewer", password: pw }),
      }).then((r) => r.status);
    expect(await signIn(password)).toBe(200);

    await viewerRow.getByTestId("admin-user-remove").click();
    await viewerRow.getByTestId("admin-user-remove-confirm").waitFor({ timeout: 5_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/admin-users-remove.png` });
    await viewerRow.getByTestId("admin-user-remove-confirm").click();
    await expect
      .poll(() => page.getByTestId("admin-user-row-message").textContent(), { timeout: 5_000 })
      .toContain("User e2e-viewer removed.");
    await expect.poll(() => rows.filter({ hasText: "e2e-viewer" }).count()).toBe(0);
    expect(await signIn(password)).toBe(401);
    await page.keyboard.press("Escape");
  });

  it("logs out back to the login page", async () => {
    await page.getByTestId("logout").click();
    await page.getByTestId("login-form").waitFor({ state: "visible", timeout: 5_000 });
    // The session is gone on the server too, not just hidden by the page.
    const reply = await page.evaluate(() => fetch("/api/session").then((r) => r.status));
    expect(reply).toBe(401);
    // Every page above (login, map, admin dialog) rendered under the strict CSP.
    expect(cspViolations).toEqual([]);
  });
});
