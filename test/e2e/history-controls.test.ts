import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { SPEED_BANDS, speedBand } from "../../web/src/lib/history/speed-scale.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { drive } from "../support/drive.ts";
import { connectDevice, report, startTestLocus, type TestLocus } from "../support/locus.ts";
import { middayTimezone } from "../support/screen.ts";

// The history view's controls as a new user meets them: "Today" opened in the evening, the
// keyboard, the colours, the import form.

const DEVICE = "car-3";
const MIN = 60_000;
// Eight minutes of driving that ended two minutes ago: the "sliver at the right edge".
const T0 = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
const fixes = drive({ ts: T0, lat: 52.37, lon: 4.89, alt: 2 }, [
  { kind: "drive", minutes: 3, speed: 9, course: 90, everyS: 2 },
  { kind: "drive", minutes: 2, speed: 17, course: 0, everyS: 2 },
  { kind: "drive", minutes: 3, speed: 26, course: 270, everyS: 2 },
]);
const FIRST = fixes[0]!.ts;
const LAST = fixes.at(-1)!.ts;

let server: TestLocus;
let browser: Browser;
let page: Page;
let cspViolations: string[];

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ rateLimit: 1000, rateBurst: 1000 });
  const socket = await connectDevice(server.url, DEVICE);
  expect(await report(socket, fixes)).toMatchObject({ accepted: fixes.length });
  socket.close();
  browser = await launchChromium();
  // Midday in the browser's time zone: "Today" holds hours without data on both sides.
  ({ page, cspViolations } = await adminPage(browser, server, {
    viewport: { width: 1440, height: 900 },
    timezoneId: middayTimezone(),
  }));
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

/** Pixels of a canvas per colour of `colours` (RGB within ±3, any opacity), in page order. */
function colourCounts(canvas: string, colours: string[]): Promise<number[]> {
  return page.locator(canvas).evaluate((el, hexes) => {
    const c = el as HTMLCanvasElement;
    const { data } = c.getContext("2d")!.getImageData(0, 0, c.width, c.height);
    const wanted = hexes.map((hex) => [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16)));
    const counts = wanted.map(() => 0);
    for (let k = 0; k < data.length; k += 4) {
      if (data[k + 3] === 0) continue;
      wanted.forEach((rgb, i) => {
        if (rgb.every((v, ch) => Math.abs(v - data[k + ch]!) <= 3)) counts[i]!++;
      });
    }
    return counts;
  }, colours);
}

const playing = () => page.getByTestId("replay-play").getAttribute("data-playing");
const markerT = () => page.getByTestId("replay-marker").getAttribute("data-t").then(Number);

describe("history controls in Chromium", () => {
  it("frames chart and scrubber on the data's own span within Today", async () => {
    await page.goto(`${server.url}/#/history?device=${DEVICE}`);
    await expect.poll(() => page.getByTestId("trip-row").count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId("range-today").getAttribute("aria-pressed")).toBe("true");
    // Speeds read alike everywhere: whole km/h, unit on each (formatSpeed).
    expect(await page.getByTestId("trip-row").textContent()).toMatch(
      /max \d+ km\/h\s+·\s+avg \d+ km\/h/,
    );

    const scrubber = page.getByTestId("replay-scrubber");
    const min = Number(await scrubber.getAttribute("min")) * 1000;
    const max = Number(await scrubber.getAttribute("max")) * 1000;
    // Midnight is hours before the first fix; the scrubber starts within a minute of it.
    expect(FIRST - min).toBeGreaterThanOrEqual(0);
    expect(FIRST - min).toBeLessThan(MIN);
    expect(max - LAST).toBeGreaterThanOrEqual(0);
    expect(max - LAST).toBeLessThan(MIN);

    // The middle of the chart is the middle of the drive, not some empty afternoon hour.
    const chart = page.getByTestId("speed-chart");
    const box = (await chart.boundingBox())!;
    await chart.click({ position: { x: box.width / 2, y: box.height / 2 } });
    const t = await markerT();
    expect(Math.abs(t - (FIRST + LAST) / 2)).toBeLessThan(MIN);
    await page.screenshot({ path: `${SCREENSHOTS}/history-today-span.png` });
    expect(cspViolations).toEqual([]);
  });

  it("colours the map's line, the chart and the legend from the one speed scale", async () => {
    const legend = page.getByTestId("speed-legend").locator("rect");
    expect(await legend.evaluateAll((rects) => rects.map((r) => r.getAttribute("fill")))).toEqual(
      SPEED_BANDS.map((band) => band.color),
    );
    // The drive's three legs, at 32, 61 and 94 km/h: three bands, on the map and on the chart.
    const driven = [...new Set(fixes.map((f) => speedBand(f.speed ?? 0)))];
    expect(driven).toHaveLength(3);
    const colours = driven.map((band) => SPEED_BANDS[band]!.color);
    const onMap = await colourCounts(
      "[data-testid=history-map] .leaflet-overlay-pane canvas",
      colours,
    );
    const onChart = await colourCounts("[data-testid=speed-chart]", colours);
    for (const [i, colour] of colours.entries()) {
      expect(onMap[i], `${colour} on the map`).toBeGreaterThan(100);
      expect(onChart[i], `${colour} on the chart`).toBeGreaterThan(100);
    }
    await page.screenshot({ path: `${SCREENSHOTS}/history-speed-colours.png` });
  });

  it("plays and pauses with Space wherever the focus is, except in a field being typed in", async () => {
    // A preset was just clicked, so it has the focus: Space used to click it again.
    await page.getByTestId("range-last-hour").click();
    await expect.poll(() => page.getByTestId("trip-row").count(), { timeout: 10_000 }).toBe(1);
    const hash = new URL(page.url()).hash;
    await page.keyboard.press("Space");
    await expect.poll(playing).toBe("true");
    await page.keyboard.press("Space");
    await expect.poll(playing).toBe("false");
    expect(await page.getByTestId("range-last-hour").getAttribute("aria-pressed")).toBe("true");
    expect(new URL(page.url()).hash.split("&at=")[0]).toBe(hash.split("&at=")[0]);

    // From the replay speed picker too (Space would open it instead).
    await page.getByTestId("replay-speed").focus();
    await page.keyboard.press("Space");
    await expect.poll(playing).toBe("true");
    await page.keyboard.press("Space");
    await expect.poll(playing).toBe("false");

    // The Follow switch, whose Space is taken, answers Enter.
    const follow = page.getByRole("switch", { name: "Follow" });
    const before = await follow.isChecked();
    await follow.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => follow.isChecked()).toBe(!before);
    await page.keyboard.press("Enter");
    await expect.poll(() => follow.isChecked()).toBe(before);

    // Typing a date: Space belongs to the field.
    await page.getByTestId("range-custom").click();
    await page.getByTestId("range-from").focus();
    await page.keyboard.press("Space");
    await page.waitForTimeout(300);
    expect(await playing()).toBe("false");
    // Space opens Chromium's date picker, which would take the next keys: close it.
    await page.keyboard.press("Escape");
    await page.waitForTimeout(300);
  });

  it("offers the import file as a button-looking control that the keyboard reaches", async () => {
    // Waiting for the picker switches Playwright's interception of it on, which takes a moment:
    // start waiting now, not at the key press.
    const chooser = page.waitForEvent("filechooser", { timeout: 10_000 });
    await page.getByTestId("range-today").click();
    const summary = page.getByText("Import a GPX or GeoJSON file");
    await summary.click();
    const input = page.getByTestId("import-file");
    const choose = page.getByTestId("import-choose");
    // The browser's own "Choose File / No file chosen" is not drawn; the app's button is.
    const native = (await input.boundingBox())!;
    expect(native.width * native.height).toBeLessThanOrEqual(1);
    await choose.waitFor({ state: "visible" });
    const look = await choose.evaluate((el) => {
      const style = getComputedStyle(el);
      return { radius: parseFloat(style.borderTopLeftRadius), border: style.borderTopStyle };
    });
    expect(look.radius).toBeGreaterThan(0);
    expect(look.border).toBe("solid");
    expect(await page.getByTestId("import-file-name").textContent()).toContain("No file chosen");

    // Tab from the summary lands on the file input; its focus ring shows on the button, and
    // Enter opens the file picker.
    await summary.focus();
    await page.keyboard.press("Tab");
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await choose.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe("solid");
    await page.keyboard.press("Enter");
    await (
      await chooser
    ).setFiles({
      name: "sunday-ride.gpx",
      mimeType: "application/gpx+xml",
      buffer: Buffer.from("<gpx></gpx>"),
    });
    expect(await page.getByTestId("import-file-name").textContent()).toContain("sunday-ride.gpx");
    expect(await page.getByTestId("import-submit").isEnabled()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/history-import-control.png` });
    expect(cspViolations).toEqual([]);
  });
});
