import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { STATUS_COLOR } from "../../web/src/lib/status.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { startTestLocus, type TestLocus } from "../support/locus.ts";

// Past VehicleLayer's vector limit (1,500 in view), so the crowd is stamped from sprites.
const VEHICLES = 1600;
const SIDE = 40; // a 40 × 40 grid, 25 m apart

let server: TestLocus;
let browser: Browser;
let page: Page;
let cspViolations: string[];

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ tickMs: 100 });
  // One OsmAnd GET per vehicle: the lightest way to get 1,600 devices onto the map. Half move
  // (5 kn, each its own heading), half stand still.
  const ts = Math.floor(Date.now() / 1000) - 5;
  for (let start = 0; start < VEHICLES; start += 100) {
    await Promise.all(
      Array.from({ length: 100 }, async (_, k) => {
        const i = start + k;
        const query = new URLSearchParams({
          id: `crowd-${i}`,
          timestamp: String(ts),
          lat: String(52.5 + Math.floor(i / SIDE) * 0.000225),
          lon: String(13.4 + (i % SIDE) * 0.00037),
          speed: i % 2 === 0 ? "5" : "0",
          bearing: String((i * 37) % 360),
        });
        const res = await fetch(`${server.url}/osmand?${query}`);
        expect(res.status).toBe(200);
      }),
    );
  }
  browser = await launchChromium();
  ({ page, cspViolations } = await adminPage(browser, server));
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

/** Canvas pixels (device pixels) whose colour is exactly a status colour, per status. */
const countColours = () =>
  page.evaluate((colours) => {
    const canvas = document.querySelector<HTMLCanvasElement>("[data-testid=vehicle-canvas]")!;
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    const wanted = Object.entries(colours).map(([status, hex]) => ({
      status,
      rgb: [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16)),
    }));
    const counts: Record<string, number> = {};
    for (let k = 0; k < data.length; k += 4) {
      for (const { status, rgb } of wanted) {
        if (data[k] === rgb[0] && data[k + 1] === rgb[1] && data[k + 2] === rgb[2]) {
          counts[status] = (counts[status] ?? 0) + 1;
        }
      }
    }
    return counts;
  }, STATUS_COLOR);

describe("a crowded map", () => {
  it("draws every vehicle of a crowd, in its status colour, and still selects by click", async () => {
    await page.goto(server.url);
    const canvas = page.getByTestId("vehicle-canvas");
    await expect
      .poll(() => canvas.getAttribute("data-drawn").then(Number), { timeout: 20_000 })
      .toBe(VEHICLES);
    await page.screenshot({ path: `${SCREENSHOTS}/dashboard-crowd.png` });

    // Each arrow at this zoom is a few dozen opaque pixels; overlaps are few on a 25 m grid.
    const counts = await countColours();
    expect(counts.moving).toBeGreaterThan((VEHICLES / 2) * 20);
    expect(counts.stopped).toBeGreaterThan((VEHICLES / 2) * 20);
    expect(counts.offline ?? 0).toBe(0);

    // Hit-testing does not depend on how the glyphs were drawn.
    const box = (await canvas.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.getByTestId("details").isVisible()).toBe(true);
    expect(cspViolations).toEqual([]);
  });
});
