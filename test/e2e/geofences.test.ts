import CheapRuler from "cheap-ruler";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetEvent, Geofence } from "../../protocol/geofence.ts";
import type { Position } from "../../protocol/position.ts";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { launchChromium, SCREENSHOTS } from "../support/browser.ts";
import {
  connectDevice,
  report,
  startTestLocus,
  TEST_ADMIN_PASSWORD,
  type DeviceSocket,
  type TestLocus,
} from "../support/locus.ts";
import { boxOf, isUncovered, screenPoint as pointOnScreen } from "../support/screen.ts";

// Geofences and events in the dashboard (issue #14): an admin draws a polygon with the mouse,
// names it and saves it; a vehicle drives through it; the dashboard raises the toasts, lists the
// events under their fence's name and counts them unread. A viewer sees the fence, not the editor.

const DEVICE = "van-7";
const VIEWER = { name: "vera", password: "vera-password-1" };
/** Where the van starts; the fence is drawn around a point 500 m east of it. */
const START = { lat: 52.52, lon: 13.405 };
const ruler = new CheapRuler(START.lat, "meters");
const offset = (east: number, north: number) => {
  const [lon, lat] = ruler.offset([START.lon, START.lat], east, north);
  return { lat: lat!, lon: lon! };
};
/** The square the admin draws: 400 m a side, 300–700 m east of the start. */
const CORNERS = [offset(300, -200), offset(700, -200), offset(700, 200), offset(300, 200)];
/** 15 m/s east, a fix a second: well inside the plausibility limit (100 m/s between fixes). */
const SPEED = 15;
const T0 = Math.floor(Date.now() / 1000) * 1000 - 120_000;
const drive: Position[] = Array.from({ length: 70 }, (_, i) => ({
  ts: T0 + i * 1000,
  ...offset(i * SPEED, 0),
  speed: SPEED,
  course: 90,
}));
/** 30 km/h inside the fence: the van's 54 km/h is speeding there. */
const LIMIT_KMH = 30;

let server: TestLocus;
let browser: Browser;
let page: Page;
let van: DeviceSocket;

/** A fresh browser context signed in through the login form, as a person does it. */
async function signInPage(name: string, password: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const p = await context.newPage();
  p.setDefaultTimeout(10_000);
  // No internet here: map tiles must fail fast rather than hang the page.
  await p.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
  await p.goto(server.url);
  await p.getByTestId("login-username").fill(name);
  await p.getByTestId("login-password").fill(password);
  await p.getByTestId("login-submit").click();
  await p.locator("[data-testid=connection][data-state=live]").waitFor();
  return p;
}

/** Where a point is on the live map's screen. */
const screenPoint = (p: Page, at: { lat: number; lon: number }) =>
  pointOnScreen(p.getByTestId("fleet-map"), at);

async function fences(): Promise<Geofence[]> {
  return ((await (await server.fetch("/api/geofences")).json()) as { geofences: Geofence[] })
    .geofences;
}

async function events(): Promise<FleetEvent[]> {
  return ((await (await server.fetch("/api/events")).json()) as { events: FleetEvent[] }).events;
}

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ tickMs: 100, rateLimit: 1000, rateBurst: 1000 });
  const viewer = await server.fetch("/api/admin/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...VIEWER, role: "viewer", devices: "all" }),
  });
  expect(viewer.status).toBe(201);
  // The van's first fix, so the map frames it before anything is drawn.
  van = await connectDevice(server.url, DEVICE);
  expect(await report(van, drive[0])).toMatchObject({ ok: true, accepted: 1 });
  browser = await launchChromium();
  page = await signInPage("admin", TEST_ADMIN_PASSWORD);
  await page.locator('[data-testid=fleet-map]:not([data-zoom="2"])').waitFor();
});

afterAll(async () => {
  van?.close();
  await browser?.close();
  await server?.dispose();
});

describe("geofences and events in Chromium", () => {
  it("draws a polygon with the mouse, names it and saves it", async () => {
    await page.getByTestId("panel-tab-fences").click();
    expect(await page.getByTestId("fence-empty").textContent()).toMatch(/No geofences yet/);
    await page.screenshot({ path: `${SCREENSHOTS}/geofence-empty.png` });
    await page.getByTestId("fence-new-polygon").click();
    await page.getByTestId("fence-editor").waitFor();
    expect(await page.getByTestId("fence-hint").textContent()).toMatch(/place each corner/);

    const points = await Promise.all(CORNERS.map((c) => screenPoint(page, c)));
    // Every corner is on the open map, not under the panel, a toast or a control.
    const panel = await boxOf(page.locator("#side-panel"));
    for (const [x, y] of points) {
      expect(x).toBeGreaterThan(panel.x + panel.width + 20);
      expect(y).toBeGreaterThan(80);
      expect(y).toBeLessThan(800);
    }
    for (const [x, y] of points) await page.mouse.click(x, y);
    await expect.poll(() => page.getByTestId("fence-progress").textContent()).toBe("4 corners");
    await page.screenshot({ path: `${SCREENSHOTS}/geofence-drawing.png` });
    // A click on the first corner closes the outline: handles appear.
    await page.mouse.click(...points[0]!);
    await expect.poll(() => page.getByTestId("fence-vertex").count()).toBe(4);
    expect(await page.getByTestId("fence-draw-bar").count()).toBe(0);

    await page.getByTestId("fence-name").fill("Depot");
    await page.getByTestId("fence-speed").fill(String(LIMIT_KMH));
    await page.screenshot({ path: `${SCREENSHOTS}/geofence-editing.png` });
    await page.getByTestId("fence-save").click();
    await page.getByTestId("fence-row").filter({ hasText: "Depot" }).waitFor();

    const stored = await fences();
    expect(stored).toHaveLength(1);
    const [depot] = stored;
    expect(depot).toMatchObject({ name: "Depot", shape: { type: "polygon" } });
    // km/h on screen, m/s on the wire.
    expect(depot!.speedLimit).toBeCloseTo(LIMIT_KMH / 3.6, 2);
    const ring = depot!.shape.type === "polygon" ? depot!.shape.ring : [];
    expect(ring).toHaveLength(4);
    // Where the clicks were, to a pixel or two (about 3 m a pixel at this zoom).
    ring.forEach((v, i) => {
      const c = CORNERS[i]!;
      expect(ruler.distance([v.lon, v.lat], [c.lon, c.lat])).toBeLessThan(10);
    });
    // On the map, in its colour, named in the list.
    expect(
      await page.locator(`[data-testid=fence-shape][data-fence-id="${depot!.id}"]`).count(),
    ).toBe(1);
    expect(await page.getByTestId("fence-row").textContent()).toMatch(/Polygon · 4 corners/);
  });

  it("reshapes the fence by dragging a corner, and saves the change", async () => {
    const [before] = await fences();
    await page.getByTestId("fence-edit").click();
    const corner = page.locator('[data-testid=fence-vertex][aria-label="Corner 2"]');
    // Editing flies the map to the fence: wait until the corner stops moving.
    let last = "";
    await expect
      .poll(async () => {
        const now = JSON.stringify(await boxOf(corner));
        const still = now === last;
        last = now;
        return still;
      })
      .toBe(true);
    const box = await boxOf(corner);
    const from: [number, number] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.move(...from);
    await page.mouse.down();
    await page.mouse.move(from[0] + 40, from[1], { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => page.getByTestId("fence-save").isEnabled()).toBe(true);
    await page.getByTestId("fence-save").click();
    await page.getByTestId("fence-list").waitFor();

    const [after] = await fences();
    expect(after!.id).toBe(before!.id);
    const ringOf = (f: Geofence) => (f.shape.type === "polygon" ? f.shape.ring : []);
    const [moved, was] = [ringOf(after!)[1]!, ringOf(before!)[1]!];
    // 40 px east, in metres at the zoom editing flew to; the other corners stay put.
    const zoom = Number(await page.getByTestId("fleet-map").getAttribute("data-zoom"));
    const metresPerPixel =
      (40_075_016.686 * Math.cos((START.lat * Math.PI) / 180)) / 2 ** (zoom + 8);
    const east = ruler.distance([was.lon, was.lat], [moved.lon, was.lat]);
    expect(moved.lon).toBeGreaterThan(was.lon);
    expect(east / metresPerPixel).toBeGreaterThan(30);
    expect(east / metresPerPixel).toBeLessThan(50);
    expect(ringOf(after!)[0]).toEqual(ringOf(before!)[0]);
    expect(after!.speedLimit).toBe(before!.speedLimit);
  });

  it("names the problem of an outline that crosses itself before the server sees it", async () => {
    await page.getByTestId("fence-new-polygon").click();
    // A bow tie, on screen: the second and fourth edges cross.
    const bowTie: [number, number][] = [
      [600, 140],
      [900, 140],
      [600, 320],
      [900, 320],
    ];
    for (const [x, y] of bowTie) await page.mouse.click(x, y);
    await page.getByTestId("fence-finish").click();
    const problem = page.getByTestId("fence-problem");
    await expect.poll(() => problem.textContent()).toMatch(/must not intersect itself/);
    expect(await problem.getAttribute("role")).toBe("alert");
    await page.getByTestId("fence-name").fill("Tangle");
    await page.getByTestId("fence-save").click();
    await page.screenshot({ path: `${SCREENSHOTS}/geofence-invalid.png` });
    // Nothing was sent: the server still has the one fence.
    expect(await fences()).toHaveLength(1);
    await page.getByTestId("fence-back").click();
    await page.getByTestId("fence-list").waitFor();
  });

  it("toasts a vehicle entering, lists the events under the fence's name, counts them unread", async () => {
    // The feed is out of sight while the vehicles are listed: its events count as unread.
    await page.getByTestId("panel-tab-vehicles").click();
    for (const fix of drive.slice(1)) {
      expect(await report(van, fix)).toMatchObject({ ok: true, accepted: 1 });
      await new Promise((r) => setTimeout(r, 15));
    }

    const enter = page.locator("[data-testid=event-toast][data-type=geofence_enter]");
    await enter.waitFor({ timeout: 10_000 });
    expect(await enter.textContent()).toContain(DEVICE);
    expect(await enter.getByTestId("event-toast-subject").textContent()).toBe("Depot");

    // Entered, left, and sped inside (54 km/h in 30): three events, as the server lists them.
    await expect
      .poll(async () => (await events()).map((e) => e.type).sort(), { timeout: 10_000 })
      .toEqual(["geofence_enter", "geofence_exit", "overspeed"]);
    const badge = page.getByTestId("events-unread");
    await expect.poll(() => badge.textContent()).toBe("3");
    expect(await badge.getAttribute("aria-label")).toBe("3 new events");
    // No more than three toasts at once, each dismissible.
    await expect.poll(() => page.getByTestId("event-toast").count()).toBe(3);
    expect(await isUncovered(enter)).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/geofence-toasts.png` });

    await page.getByTestId("panel-tab-events").click();
    await badge.waitFor({ state: "detached" });
    const rows = page.getByTestId("event-row");
    await expect.poll(() => rows.count()).toBe(3);
    const enterRow = rows.and(page.locator("[data-type=geofence_enter]"));
    expect(await enterRow.getByTestId("event-subject").textContent()).toBe("Depot");
    expect(await enterRow.textContent()).toContain(DEVICE);
    expect(await enterRow.getByTestId("event-time").textContent()).toMatch(/ago$/);
    expect(await enterRow.getByTestId("event-time").getAttribute("title")).toBeTruthy();
    const speeding = rows.and(page.locator("[data-type=overspeed]"));
    expect(await speeding.getByTestId("event-subject").textContent()).toBe("54 km/h");
    expect(await speeding.textContent()).toContain("limit 30 km/h");
    await page.screenshot({ path: `${SCREENSHOTS}/geofence-feed.png` });

    // Clicking an event centres the map on where it happened (in the part the panel leaves).
    const stored = (await events()).find((e) => e.type === "geofence_enter")!;
    await enterRow.click();
    const map = await boxOf(page.getByTestId("fleet-map"));
    const panel = await boxOf(page.locator("#side-panel"));
    const middle = panel.x + panel.width + (map.width - panel.x - panel.width) / 2;
    await expect
      .poll(async () => {
        const [x, y] = await screenPoint(page, stored);
        return Math.abs(x - middle) < 40 && Math.abs(y - map.height / 2) < 40;
      })
      .toBe(true);

    // Dismissing a toast takes it away.
    const before = await page.getByTestId("event-toast").count();
    if (before > 0) {
      await page
        .getByTestId("event-toast")
        .first()
        .getByRole("button", { name: "Dismiss" })
        .click();
      await expect.poll(() => page.getByTestId("event-toast").count()).toBe(before - 1);
    }
  });

  it("shows a viewer the fence on the map and in the list, without editing controls", async () => {
    const viewer = await signInPage(VIEWER.name, VIEWER.password);
    await viewer.locator("[data-testid=fence-shape]").first().waitFor({ state: "attached" });
    await viewer.getByTestId("panel-tab-fences").click();
    await viewer.getByTestId("fence-row").filter({ hasText: "Depot" }).waitFor();
    expect(await viewer.getByTestId("fence-new-polygon").count()).toBe(0);
    expect(await viewer.getByTestId("fence-edit").count()).toBe(0);
    expect(await viewer.getByTestId("fence-delete").count()).toBe(0);
    // The feed lists the same events for a viewer allowed to see the van.
    await viewer.getByTestId("panel-tab-events").click();
    await expect.poll(() => viewer.getByTestId("event-row").count()).toBe(3);
    await viewer.screenshot({ path: `${SCREENSHOTS}/geofence-viewer.png` });
    await viewer.context().close();
  });

  it("deletes the fence after asking", async () => {
    await page.getByTestId("panel-tab-fences").click();
    await page.getByTestId("fence-delete").click();
    expect(await page.getByTestId("fence-delete-confirm-question").textContent()).toMatch(
      /Delete “Depot”\?/,
    );
    await page.screenshot({ path: `${SCREENSHOTS}/geofence-delete-confirm.png` });
    await page.getByTestId("fence-delete-confirm").click();
    await page.getByTestId("fence-empty").waitFor();
    expect(await fences()).toHaveLength(0);
    expect(await page.locator("[data-testid=fence-shape]").count()).toBe(0);
  });
});
