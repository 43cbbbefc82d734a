import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { drive } from "../support/drive.ts";
import { connectDevice, report, startTestLocus, type TestLocus } from "../support/locus.ts";
import { boxOf, contains, isUncovered } from "../support/screen.ts";

// What a new user sees on a wide screen and on a phone: controls inside their cards.

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
});
