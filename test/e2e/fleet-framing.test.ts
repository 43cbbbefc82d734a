import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { startFleet } from "../../simulator/fleet.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { startTestLocus, type TestLocus } from "../support/locus.ts";

// Dashboards opened before the fleet comes online: where their maps look once it does.

const VEHICLES = 5;
const quiet = { info() {}, warn() {}, error() {} };

let server: TestLocus;
let fleet: ReturnType<typeof startFleet> | undefined;
let browser: Browser;
/** Opened and left alone. */
let untouched: Page;
/** Opened, then zoomed into somewhere else by the user. */
let moved: Page;
/** Opened from a link naming one vehicle. */
let linked: Page;
let movedView = "";

const zoom = (page: Page) => page.getByTestId("fleet-map").getAttribute("data-zoom").then(Number);
const centre = (page: Page) => page.getByTestId("fleet-map").getAttribute("data-center");
const bounds = async (page: Page) =>
  ((await page.getByTestId("fleet-map").getAttribute("data-bounds")) ?? "").split(",").map(Number);
const drawn = (page: Page) =>
  page.getByTestId("vehicle-canvas").getAttribute("data-drawn").then(Number);

/** Every vehicle's latest position, from the REST API. */
async function positions(): Promise<{ id: string; lat: number; lon: number }[]> {
  const reply = (await (await server.fetch("/api/devices")).json()) as {
    devices: { id: string; position: { lat: number; lon: number } | null }[];
  };
  return reply.devices.flatMap((d) => (d.position ? [{ id: d.id, ...d.position }] : []));
}

/** Every vehicle is in view, right of the 364 px the side panel covers on a 1440 px screen. */
async function expectFleetInView(page: Page): Promise<void> {
  const [west, south, east, north] = (await bounds(page)) as [number, number, number, number];
  const clearOfPanel = west + ((east - west) * 364) / 1440;
  const all = await positions();
  expect(all).toHaveLength(VEHICLES);
  for (const v of all) {
    expect(v.lon, `${v.id} right of the panel`).toBeGreaterThan(clearOfPanel);
    expect(v.lon, v.id).toBeLessThan(east);
    expect(v.lat, v.id).toBeGreaterThan(south);
    expect(v.lat, v.id).toBeLessThan(north);
  }
}

async function openEmpty(path = "/"): Promise<Page> {
  const { page } = await adminPage(browser, server, { viewport: { width: 1440, height: 900 } });
  await page.goto(`${server.url}${path}`);
  await page.locator("[data-testid=connection][data-state=live]").waitFor({ timeout: 10_000 });
  return page;
}

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ tickMs: 100 });
  browser = await launchChromium();
  untouched = await openEmpty();
  moved = await openEmpty();
  linked = await openEmpty("/?device=sim-0003");
  // The user drags the map and zooms in with the wheel before any vehicle shows up.
  const box = (await moved.getByTestId("fleet-map").boundingBox())!;
  await moved.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await moved.mouse.down();
  await moved.mouse.move(box.x + box.width / 2 - 200, box.y + box.height / 2 + 80, { steps: 8 });
  await moved.mouse.up();
  await moved.mouse.wheel(0, -400);
  await moved.locator('[data-testid=fleet-map]:not([data-zoom="2"])').waitFor();
  await moved.waitForTimeout(400); // the wheel zoom settles
  movedView = `${await zoom(moved)}@${await centre(moved)}`;

  fleet = startFleet({
    url: server.url,
    vehicles: VEHICLES,
    intervalMs: 500,
    seed: 5,
    logger: quiet,
  });
});

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await server?.dispose();
});

describe("framing the fleet", () => {
  it("frames the fleet when it first comes online, on a map nobody has moved", async () => {
    await expect.poll(() => drawn(untouched), { timeout: 15_000 }).toBe(VEHICLES);
    // A city's worth of vehicles: street level, not the whole world in one dot.
    await expect.poll(() => zoom(untouched), { timeout: 10_000 }).toBeGreaterThanOrEqual(11);
    await untouched.waitForTimeout(500);
    await expectFleetInView(untouched);
    await untouched.screenshot({ path: `${SCREENSHOTS}/fleet-framed.png` });
    // Speeds read alike for parked and moving vehicles: whole km/h.
    for (const speed of await untouched
      .locator("[data-testid=vehicle-row] .speed")
      .allTextContents())
      expect(speed).toMatch(/^\d+ km\/h$/);
  });

  it("leaves a map the user moved where they put it", async () => {
    await expect
      .poll(() => moved.getByTestId("vehicle-row").count(), { timeout: 15_000 })
      .toBe(VEHICLES);
    await moved.waitForTimeout(500);
    expect(`${await zoom(moved)}@${await centre(moved)}`).toBe(movedView);
  });

  it("goes to the vehicle a link names, not to the whole fleet", async () => {
    await linked.getByTestId("details").waitFor({ state: "visible", timeout: 15_000 });
    await expect.poll(() => zoom(linked), { timeout: 10_000 }).toBe(15);
    const lat = Number(await linked.getByTestId("details-lat").textContent());
    const lon = Number(await linked.getByTestId("details-lon").textContent());
    const [west, south, east, north] = (await bounds(linked)) as number[];
    expect(lon).toBeGreaterThan(west!);
    expect(lon).toBeLessThan(east!);
    expect(lat).toBeGreaterThan(south!);
    expect(lat).toBeLessThan(north!);
  });

  it("frames every vehicle from the fit-all button beside zoom", async () => {
    const fitAll = moved.getByTestId("fit-all");
    // Beside the zoom buttons: the same corner, right above them.
    const zoomBox = (await moved.locator(".leaflet-control-zoom").boundingBox())!;
    const fitBox = (await fitAll.boundingBox())!;
    expect(Math.abs(fitBox.x + fitBox.width - (zoomBox.x + zoomBox.width))).toBeLessThan(2);
    expect(zoomBox.y - (fitBox.y + fitBox.height)).toBeLessThan(16);
    expect(zoomBox.y - (fitBox.y + fitBox.height)).toBeGreaterThanOrEqual(0);

    await fitAll.click();
    await expect.poll(() => zoom(moved), { timeout: 5_000 }).toBeGreaterThanOrEqual(11);
    await moved.waitForTimeout(500);
    await expectFleetInView(moved);
    await moved.screenshot({ path: `${SCREENSHOTS}/fleet-fit-all.png` });
  });
});
