import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { drive } from "../support/drive.ts";
import { connectDevice, report, startTestLocus, type TestLocus } from "../support/locus.ts";
import { boxOf, contains, isUncovered } from "../support/screen.ts";

// What a new user sees on a wide screen and on a phone: controls inside their cards, nothing
// over the map's controls or its attribution, the same controls in the same place on both maps.

const DEVICE = "van-7";
const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 12 * MIN;
const fixes = drive({ ts: T0, lat: 48.137, lon: 11.575, alt: 520 }, [
  { kind: "drive", minutes: 4, speed: 12, course: 90, everyS: 2 },
  { kind: "drive", minutes: 4, speed: 18, course: 0, everyS: 2 },
]);
const VIEWPORTS = [
  { name: "wide", viewport: { width: 1440, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 } },
] as const;

let server: TestLocus;
let browser: Browser;

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ rateLimit: 1000, rateBurst: 1000 });
  const socket = await connectDevice(server.url, DEVICE);
  expect(await report(socket, fixes)).toMatchObject({ accepted: fixes.length });
  socket.close();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

async function openHistory(page: Page): Promise<void> {
  await page.goto(`${server.url}/#/history?device=${DEVICE}`);
  await page.getByTestId("history-panel").waitFor({ state: "visible", timeout: 10_000 });
  await expect.poll(() => page.getByTestId("trip-row").count(), { timeout: 10_000 }).toBe(1);
}

/** The zoom-in button: the right edge, the lower half of the screen, nothing over it. */
async function expectZoomBottomRight(page: Page, width: number, height: number): Promise<void> {
  const zoomIn = page.locator(".leaflet-control-zoom-in");
  const box = await boxOf(zoomIn);
  expect(width - (box.x + box.width)).toBeLessThan(24);
  expect(box.y).toBeGreaterThan(height / 2);
  expect(await isUncovered(zoomIn)).toBe(true);
}

/** The tile provider's credit is on screen, with nothing over it. */
async function expectCreditVisible(page: Page): Promise<void> {
  const credit = page.locator(".leaflet-control-attribution a", { hasText: "OpenStreetMap" });
  await credit.waitFor({ state: "visible", timeout: 5_000 });
  expect(await isUncovered(credit)).toBe(true);
}

describe.each(VIEWPORTS)("dashboard layout, $name", ({ name, viewport }) => {
  it("fits the custom range's fields and its Show button inside the history panel", async () => {
    const { page } = await adminPage(browser, server, { viewport });
    await openHistory(page);
    await page.getByTestId("range-custom").click();
    const panel = await boxOf(page.getByTestId("history-panel"));
    for (const id of ["range-from", "range-to", "range-apply"]) {
      const control = page.getByTestId(id);
      expect(contains(panel, await boxOf(control)), `${id} inside the panel`).toBe(true);
      expect(await isUncovered(control), `${id} not covered`).toBe(true);
    }
    await page.screenshot({ path: `${SCREENSHOTS}/layout-${name}-custom-range.png` });
    await page.context().close();
  });

  it("keeps the map's credit visible above the replay bar, zoom in the live map's corner", async () => {
    const { page } = await adminPage(browser, server, { viewport });
    await openHistory(page);
    await expectCreditVisible(page);
    const bar = await boxOf(page.getByTestId("replay-bar"));
    const credit = await boxOf(page.locator(".leaflet-control-attribution"));
    expect(credit.y + credit.height).toBeLessThanOrEqual(bar.y);
    await expectZoomBottomRight(page, viewport.width, viewport.height);
    await page.screenshot({ path: `${SCREENSHOTS}/layout-${name}-history.png` });
    await page.context().close();
  });

  it("keeps the live map's credit and zoom clear of the vehicle's details", async () => {
    const { page } = await adminPage(browser, server, { viewport });
    await page.goto(`${server.url}/?device=${DEVICE}`);
    await page.getByTestId("details").waitFor({ state: "visible", timeout: 10_000 });
    await expectCreditVisible(page);
    await expectZoomBottomRight(page, viewport.width, viewport.height);
    await page.screenshot({ path: `${SCREENSHOTS}/layout-${name}-live.png` });
    await page.context().close();
  });
});
