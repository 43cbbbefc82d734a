import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { SPEED_BANDS } from "../../web/src/lib/history/speed-scale.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { drive, metresBetween, positionAt } from "../support/drive.ts";
import { connectDevice, report, startTestLocus, type TestLocus } from "../support/locus.ts";

const DEVICE = "truck-1";
const MIN = 60_000;

// Three hours ago, on a minute: drive 10 min east, park 15 min, drive 10 min north, switch off
// for 30 min (and be towed 2 km), drive 10 min west on a winding road. Three trips, one stop,
// one gap. The straight legs let the test know exactly where the replay must be at any time.
const T0 = Math.floor(Date.now() / MIN) * MIN - 3 * 60 * MIN;
const fixes = drive({ ts: T0, lat: 48.1, lon: 11.5, alt: 520 }, [
  { kind: "drive", minutes: 10, speed: 15, course: 90, everyS: 2 },
  { kind: "park", minutes: 15, everyS: 10 },
  { kind: "drive", minutes: 10, speed: 20, course: 0, everyS: 2 },
  { kind: "gap", minutes: 30, moveM: 2000, course: 45 },
  { kind: "drive", minutes: 10, speed: 10, course: 270, everyS: 2, wiggleDeg: 50 },
]);
const FROM = T0 - 5 * MIN;
const TO = fixes.at(-1)!.ts + 5 * MIN;
const historyUrl = (extra = "") =>
  `/#/history?device=${DEVICE}&from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}${extra}`;

let server: TestLocus;
let browser: Browser;
let page: Page;
let cspViolations: string[] = [];

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ rateLimit: 1000, rateBurst: 1000 });
  // The drive enters as any device's data does: reported over socket.io by the device itself.
  const socket = await connectDevice(server.url, DEVICE);
  for (let i = 0; i < fixes.length; i += 500) {
    const ack = await report(socket, fixes.slice(i, i + 500));
    expect(ack).toMatchObject({ accepted: Math.min(500, fixes.length - i) });
  }
  socket.close();

  browser = await launchChromium();
  ({ page, cspViolations } = await adminPage(browser, server, { acceptDownloads: true }));
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const map = () => page.getByTestId("history-map");
const mapAttr = async (name: string) => (await map().getAttribute(`data-${name}`)) ?? "";
const marker = () => page.getByTestId("replay-marker");
async function markerState(): Promise<{ lat: number; lon: number; t: number }> {
  const m = marker();
  return {
    lat: Number(await m.getAttribute("data-lat")),
    lon: Number(await m.getAttribute("data-lon")),
    t: Number(await m.getAttribute("data-t")),
  };
}
const scrubberValue = () => page.getByTestId("replay-scrubber").inputValue().then(Number);
const cursorX = () => page.getByTestId("chart-cursor").getAttribute("data-x").then(Number);

describe("history view in Chromium", () => {
  it("opens a shared link and draws the track at the map's level of detail", async () => {
    await page.goto(`${server.url}${historyUrl()}`);
    await page.getByTestId("history-panel").waitFor({ state: "visible", timeout: 10_000 });
    // The detailed track for the framed view replaces the overview.
    await expect.poll(() => mapAttr("level"), { timeout: 10_000 }).toBe("detail");
    const segments = Number(await mapAttr("segments"));
    const vertices = Number(await mapAttr("vertices"));
    const polylines = Number(await mapAttr("polylines"));
    // The gap splits the track: no straight line is drawn across it.
    expect(segments).toBeGreaterThanOrEqual(2);
    expect(vertices).toBeGreaterThan(segments * 2);
    expect(vertices).toBeLessThanOrEqual(fixes.length);
    // A casing and one line per run of equal speed band per segment, not a layer per vertex.
    expect(polylines).toBeLessThanOrEqual(segments * (1 + SPEED_BANDS.length));
    expect(await page.getByTestId("history-device").inputValue()).toBe(DEVICE);
    await page.screenshot({ path: `${SCREENSHOTS}/history-overview.png` });
  });

  it("lists the trips and the stop, and sums up the range", async () => {
    await expect.poll(() => page.getByTestId("trip-row").count(), { timeout: 10_000 }).toBe(3);
    expect(await page.getByTestId("stop-row").count()).toBe(1);
    expect(await page.getByTestId("trip-count").textContent()).toBe("3");
    expect(await page.getByTestId("stop-count").textContent()).toBe("1");
    // 9 km + 12 km + 6 km driven; the 2 km tow across the gap is not travel.
    const distance = Number(await page.getByTestId("summary-distance").getAttribute("data-value"));
    expect(distance).toBeGreaterThan(26_000);
    expect(distance).toBeLessThan(28_000);
    const maxSpeed = Number(await page.getByTestId("summary-max-speed").getAttribute("data-value"));
    expect(maxSpeed).toBeCloseTo(20, 1);
    expect(await page.getByTestId("summary-max-speed").textContent()).toContain("72 km/h");
  });

  it("replays at high speed: the marker glides along the track, scrubber and chart follow", async () => {
    await page.getByTestId("replay-speed").selectOption("300");
    const before = await markerState();
    const scrubBefore = await scrubberValue();
    const cursorBefore = await cursorX();
    await page.getByTestId("replay-play").click();
    await expect
      .poll(async () => (await markerState()).t, { timeout: 5_000 })
      .toBeGreaterThan(before.t + 2 * MIN);
    await page.getByTestId("replay-play").click(); // pause
    const after = await markerState();
    expect(await page.getByTestId("replay-play").getAttribute("data-playing")).toBe("false");
    expect(metresBetween(before, after)).toBeGreaterThan(500);
    // Where the drive really was at that instant (the track is straight legs, so any level of
    // detail interpolates to the same place).
    expect(metresBetween(after, positionAt(fixes, after.t))).toBeLessThan(30);
    expect(await scrubberValue()).toBeGreaterThan(scrubBefore);
    expect(await cursorX()).toBeGreaterThan(cursorBefore);
    await page.screenshot({ path: `${SCREENSHOTS}/history-replay.png` });
  });

  it("seeks from the chart: the marker jumps to that time and place", async () => {
    const chart = page.getByTestId("speed-chart");
    const box = (await chart.boundingBox())!;
    // The chart covers the drive's own span within the range (a little margin either side).
    const from = Number(await chart.getAttribute("data-from"));
    const to = Number(await chart.getAttribute("data-to"));
    expect(from).toBeGreaterThanOrEqual(FROM);
    expect(from).toBeLessThanOrEqual(T0);
    expect(to).toBeLessThanOrEqual(TO);
    // Aim at the middle of the first trip (the first ten minutes of the drive).
    const target = T0 + 5 * MIN;
    const x = ((target - from) / (to - from)) * box.width;
    await chart.click({ position: { x, y: box.height / 2 } });
    const m = await markerState();
    expect(Math.abs(m.t - target)).toBeLessThan(((to - from) / box.width) * 2);
    expect(metresBetween(m, positionAt(fixes, m.t))).toBeLessThan(30);
    expect(Math.abs((await cursorX()) - x)).toBeLessThan(2);
    expect(Math.abs((await scrubberValue()) * 1000 - m.t)).toBeLessThan(1000);
  });

  it("zooms map and replay to a trip picked in the list, with more detail", async () => {
    const zoomBefore = Number(await mapAttr("zoom"));
    const verticesBefore = Number(await mapAttr("vertices"));
    const boundsBefore = await mapAttr("bounds");
    const trip = page.getByTestId("trip-row").nth(2);
    const start = Number(await trip.getAttribute("data-start"));
    await trip.click();
    await expect.poll(() => mapAttr("bounds"), { timeout: 5_000 }).not.toBe(boundsBefore);
    await expect
      .poll(async () => Number(await mapAttr("zoom")), { timeout: 5_000 })
      .toBeGreaterThan(zoomBefore);
    expect((await markerState()).t).toBe(start);
    // The whole last leg is in view.
    const [w, s, e, n] = (await mapAttr("bounds")).split(",").map(Number) as number[];
    for (const f of fixes.filter((p) => p.ts >= start)) {
      expect(f.lon).toBeGreaterThan(w!);
      expect(f.lon).toBeLessThan(e!);
      expect(f.lat).toBeGreaterThan(s!);
      expect(f.lat).toBeLessThan(n!);
    }
    // Zoomed in, the track is asked for again at the new zoom: the winding road gets its bends.
    await expect
      .poll(async () => Number(await mapAttr("vertices")), { timeout: 5_000 })
      .toBeGreaterThan(verticesBefore);
    await page.screenshot({ path: `${SCREENSHOTS}/history-trip.png` });
  });

  it("keeps vehicle, range and replay position across a reload", async () => {
    const before = await markerState();
    expect(page.url()).toContain("at=");
    await page.reload();
    await page.getByTestId("history-panel").waitFor({ state: "visible", timeout: 10_000 });
    await expect.poll(() => page.getByTestId("trip-row").count(), { timeout: 10_000 }).toBe(3);
    expect(await page.getByTestId("history-device").inputValue()).toBe(DEVICE);
    await expect.poll(async () => (await markerState()).t, { timeout: 5_000 }).toBe(before.t);
    const url = new URL(page.url());
    const params = new URLSearchParams(url.hash.split("?")[1]);
    expect(Date.parse(params.get("from")!)).toBe(FROM);
    expect(Date.parse(params.get("to")!)).toBe(TO);
  });

  it("exports the range as a GPX file holding every point", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("export-gpx").click(),
    ]);
    const gpx = readFileSync((await download.path())!, "utf8");
    expect(gpx).toContain("<gpx");
    expect(gpx.match(/<trkpt/g)?.length).toBe(fixes.length);
    expect(gpx).toContain(`lat="${fixes[0]!.lat}`);
    expect(gpx).toContain(new Date(fixes.at(-1)!.ts).toISOString().slice(0, 19));
  });

  it("imports a GPX file with a progress bar, and shows the server's error for a bad one", async () => {
    // Slow the upload down so the progress bar has something to show.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 256 * 1024,
    });
    // An hour before the drive: 2,000 points at 1 Hz, a few hundred kB.
    const start = FROM - 60 * MIN;
    const points = Array.from({ length: 2000 }, (_, i) => {
      const time = new Date(start + i * 1000).toISOString();
      return `<trkpt lat="${(48 + i * 1e-5).toFixed(6)}" lon="11.400000"><ele>500</ele><time>${time}</time><desc>${"x".repeat(80)}</desc></trkpt>`;
    });
    const gpx = `<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>${points.join("")}</trkseg></trk></gpx>`;
    await page.getByText("Import a GPX or GeoJSON file").click();
    await page.getByTestId("import-file").setInputFiles({
      name: "earlier.gpx",
      mimeType: "application/gpx+xml",
      buffer: Buffer.from(gpx),
    });
    expect(await page.getByTestId("import-format").inputValue()).toBe("gpx");
    await page.getByTestId("import-submit").click();
    const progress = page.getByTestId("import-progress");
    await progress.waitFor({ state: "visible", timeout: 5_000 });
    await expect
      .poll(async () => Number(await progress.evaluate((el) => (el as HTMLProgressElement).value)))
      .toBeGreaterThan(0);
    await page.screenshot({ path: `${SCREENSHOTS}/history-import-progress.png` });
    const result = page.getByTestId("import-result");
    await result.waitFor({ state: "visible", timeout: 20_000 });
    expect(await result.textContent()).toContain("2000 imported");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    // The points are really stored: the API's own range shows them.
    const stored = await server.fetch(
      `/api/devices/${DEVICE}/positions?from=${start}&to=${start + 2000 * 1000}&limit=5000`,
    );
    expect(((await stored.json()) as { positions: unknown[] }).positions).toHaveLength(2000);

    // A file that is not GPX: the server's own explanation is what the user reads.
    const bad = "this is not a gpx file";
    const direct = await server.fetch(`/api/devices/${DEVICE}/import?format=gpx`, {
      method: "POST",
      headers: { "content-type": "application/gpx+xml" },
      body: bad,
    });
    expect(direct.status).toBe(400);
    const { error } = (await direct.json()) as { error: { message: string } };
    await page.getByTestId("import-file").setInputFiles({
      name: "broken.gpx",
      mimeType: "application/gpx+xml",
      buffer: Buffer.from(bad),
    });
    await page.getByTestId("import-submit").click();
    const shown = page.getByTestId("import-error");
    await shown.waitFor({ state: "visible", timeout: 5_000 });
    expect((await shown.textContent())?.trim()).toBe(error.message);
    await page.screenshot({ path: `${SCREENSHOTS}/history-import-error.png` });
  });

  it("goes back to the live view with the vehicle selected, and into history from there", async () => {
    await page.getByTestId("history-leave").click();
    await page.getByTestId("details").waitFor({ state: "visible", timeout: 10_000 });
    expect(new URL(page.url()).searchParams.get("device")).toBe(DEVICE);
    expect(new URL(page.url()).hash).toBe("");
    await page.getByTestId("open-history").click();
    await page.getByTestId("history-panel").waitFor({ state: "visible", timeout: 5_000 });
    expect(new URL(page.url()).hash).toContain(`device=${DEVICE}`);
    expect(await page.getByTestId("range-today").getAttribute("aria-pressed")).toBe("true");
    // The browser's back button returns to the live map too.
    await page.goBack();
    await page.getByTestId("details").waitFor({ state: "visible", timeout: 10_000 });
    expect(cspViolations).toEqual([]);
  });

  it("shows the server's answer for a vehicle the user cannot see", async () => {
    const res = await server.fetch(`/api/devices/nobody/trips?from=${FROM}&to=${TO}`);
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { message: string } };
    await page.goto(`${server.url}${historyUrl().replace(DEVICE, "nobody")}`);
    const shown = page.getByTestId("history-error");
    await shown.waitFor({ state: "visible", timeout: 10_000 });
    expect((await shown.textContent())?.trim()).toBe(error.message);
    expect(await mapAttr("segments")).toBe("0");
    expect(cspViolations).toEqual([]);
  });
});
