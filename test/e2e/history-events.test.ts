import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetEvent, Geofence } from "../../protocol/geofence.ts";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { drive, metresBetween } from "../support/drive.ts";
import { connectDevice, report, startTestLocus, type TestLocus } from "../support/locus.ts";
import { boxOf, contains, isUncovered, screenPoint } from "../support/screen.ts";

// Fences and events in the history view (issue #14: "history shows when each vehicle entered
// and left"): a truck drives into a depot, parks, drives out and raises an SOS on the road. Its
// history draws the depot, lists the stay in it with the crossing times and the alarm, marks
// both on the map and the chart, and a click on a row takes the replay there.

const DEVICE = "truck-9";
const MIN = 60_000;
const SPEED = 15; // m/s
const RADIUS = 500;
/** Two hours ago, on a minute: 10 min east, 20 min parked, 10 min on east. */
const T0 = Math.floor(Date.now() / MIN) * MIN - 2 * 60 * MIN;
const fixes = drive({ ts: T0, lat: 48.2, lon: 16.3, alt: 200 }, [
  { kind: "drive", minutes: 10, speed: SPEED, course: 90, everyS: 2 },
  { kind: "park", minutes: 20, everyS: 10 },
  { kind: "drive", minutes: 10, speed: SPEED, course: 90, everyS: 2 },
]);
/** Where the truck parks: the depot's centre. */
const DEPOT = fixes.find((f) => f.ts === T0 + 10 * MIN)!;
// The crossings, from the drive: 500 m before the park spot at 15 m/s, and 500 m after it.
const ENTER_AT = T0 + 10 * MIN - (RADIUS / SPEED) * 1000;
const EXIT_AT = T0 + 30 * MIN + (RADIUS / SPEED) * 1000;
/** Five minutes after leaving the depot, the driver presses SOS. */
const SOS = fixes.find((f) => f.ts === T0 + 35 * MIN)!;
SOS.attributes = { alarm: "sos" };
const FROM = T0 - 5 * MIN;
const TO = fixes.at(-1)!.ts + 5 * MIN;
const historyUrl = `/#/history?device=${DEVICE}&from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`;

let server: TestLocus;
let browser: Browser;
let page: Page;
let depot: Geofence;

async function storedEvents(): Promise<FleetEvent[]> {
  const res = await server.fetch(`/api/events?device=${DEVICE}`);
  return ((await res.json()) as { events: FleetEvent[] }).events;
}

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  server = await startTestLocus({ rateLimit: 1000, rateBurst: 1000 });
  const created = await server.fetch("/api/geofences", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "Depot",
      color: "#7c3aed",
      shape: { type: "circle", center: { lat: DEPOT.lat, lon: DEPOT.lon }, radius: RADIUS },
    }),
  });
  expect(created.status).toBe(201);
  depot = (await created.json()) as Geofence;

  const socket = await connectDevice(server.url, DEVICE);
  for (let i = 0; i < fixes.length; i += 250) {
    const ack = await report(socket, fixes.slice(i, i + 250));
    expect(ack).toMatchObject({ accepted: Math.min(250, fixes.length - i) });
  }
  socket.close();
  browser = await launchChromium();
  ({ page } = await adminPage(browser, server));
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const map = () => page.getByTestId("history-map");
const stayRow = () => page.locator("[data-testid=history-event-row][data-type=stay]");
const sosRow = () => page.locator("[data-testid=history-event-row][data-type=alarm]");
const markerT = async () => Number(await page.getByTestId("replay-marker").getAttribute("data-t"));
/** A time of day as this browser writes it in the lists ("14:05", or "14:05:09"). */
const clockInPage = (ts: number, seconds = false) =>
  page.evaluate(
    ([t, s]) =>
      new Intl.DateTimeFormat(undefined, {
        hour: "2-digit",
        minute: "2-digit",
        second: s ? "2-digit" : undefined,
      }).format(t),
    [ts, seconds] as const,
  );

describe("fences and events in the history view", () => {
  it("draws the fences on the history map", async () => {
    // Events are derived after the commit: wait until all are stored. The stop in the depot is
    // also a stopped and a moving event, which the history leaves to its list of stops.
    await expect
      .poll(async () => (await storedEvents()).map((e) => e.type).sort(), { timeout: 10_000 })
      .toEqual(["alarm", "geofence_enter", "geofence_exit", "moving", "stopped"]);
    await page.goto(`${server.url}${historyUrl}`);
    await page.getByTestId("history-panel").waitFor({ state: "visible" });
    await expect.poll(() => map().getAttribute("data-level")).toBe("detail");
    const shape = map().locator(`[data-testid=fence-shape][data-fence-id="${depot.id}"]`);
    await shape.waitFor({ state: "attached" });
    // In its colour, as on the live map.
    expect(await shape.getAttribute("stroke")).toBe("#7c3aed");
    // Read-only: the history view has no fence editor.
    expect(await page.getByTestId("fence-editor").count()).toBe(0);
  });

  it("lists the stay in the depot with its crossing times, and the alarm", async () => {
    await expect.poll(() => page.getByTestId("history-event-count").textContent()).toBe("3");
    // Enter and exit of the depot read as one stay; the SOS is a row of its own.
    expect(await page.getByTestId("history-event-row").count()).toBe(2);
    const [enter, exit] = [
      (await storedEvents()).find((e) => e.type === "geofence_enter")!,
      (await storedEvents()).find((e) => e.type === "geofence_exit")!,
    ];
    // The server put the crossings where the drive crossed the circle (2 s between fixes).
    expect(Math.abs(enter.ts - ENTER_AT)).toBeLessThan(3000);
    expect(Math.abs(exit.ts - EXIT_AT)).toBeLessThan(3000);
    // And the row shows those times, as the trips do, and how long the truck was inside.
    const stay = stayRow();
    expect(Number(await stay.getAttribute("data-start"))).toBe(enter.ts);
    expect(Number(await stay.getAttribute("data-end"))).toBe(exit.ts);
    expect(await stay.getByTestId("history-event-row-when").textContent()).toBe(
      `${await clockInPage(enter.ts)} – ${await clockInPage(exit.ts)}`,
    );
    expect(await stay.getByTestId("history-event-subject").textContent()).toBe("Depot");
    expect(await stay.textContent()).toContain("In Depot");
    // 21 min 7 s inside: 33 s in, 20 min parked, 33 s out.
    expect(await stay.getByTestId("history-event-row-duration").textContent()).toBe("21 min");

    const sos = sosRow();
    expect(Number(await sos.getAttribute("data-start"))).toBe(SOS.ts);
    // An instant, to the second.
    expect(await sos.getByTestId("history-event-row-when").textContent()).toBe(
      await clockInPage(SOS.ts, true),
    );
    expect(await sos.textContent()).toMatch(/Alarm\s+SOS/);
    await page.screenshot({ path: `${SCREENSHOTS}/history-events.png` });
  });

  it("marks each event where it happened on the map, and when on the chart", async () => {
    const marks = map().getByTestId("event-mark");
    await expect.poll(() => marks.count()).toBe(3);
    expect(await map().getAttribute("data-event-marks")).toBe("3");
    const events = (await storedEvents()).filter((e) => !["stopped", "moving"].includes(e.type));
    expect(events).toHaveLength(3);
    for (const event of events) {
      const mark = map().locator(`[data-testid=event-mark][data-ts="${event.ts}"]`);
      expect(await mark.getAttribute("data-type")).toBe(event.type);
      const box = await boxOf(mark);
      const [x, y] = await screenPoint(map(), event);
      expect(Math.abs(box.x + box.width / 2 - x)).toBeLessThan(3);
      expect(Math.abs(box.y + box.height / 2 - y)).toBeLessThan(3);
    }
    // Ticks under the speed chart, at the events' times.
    const chart = page.getByTestId("speed-chart");
    const from = Number(await chart.getAttribute("data-from"));
    const to = Number(await chart.getAttribute("data-to"));
    const chartBox = await boxOf(chart);
    const ticks = page.getByTestId("chart-event");
    expect(await ticks.count()).toBe(3);
    const sosTick = await boxOf(page.locator(`[data-testid=chart-event][data-ts="${SOS.ts}"]`));
    const expectedX = chartBox.x + ((SOS.ts - from) / (to - from)) * chartBox.width;
    expect(Math.abs(sosTick.x + sosTick.width / 2 - expectedX)).toBeLessThan(3);
  });

  it("takes the replay and the map to an event picked in the list", async () => {
    expect(await markerT()).not.toBe(SOS.ts);
    await sosRow().click();
    await expect.poll(markerT).toBe(SOS.ts);
    expect(metresBetween(await replayPlace(), SOS)).toBeLessThan(5);
    await expect.poll(() => sosRow().getAttribute("class")).toContain("current");
    // The map flies there, zoomed in: the SOS in the middle of what the panel and the replay
    // bar leave uncovered.
    const panel = await boxOf(page.getByTestId("history-panel"));
    const bar = await boxOf(page.getByTestId("replay-bar"));
    const mapBox = await boxOf(map());
    const middle = [(panel.x + panel.width + mapBox.x + mapBox.width) / 2, (mapBox.y + bar.y) / 2];
    await expect
      .poll(async () => {
        const [x, y] = await screenPoint(map(), SOS);
        return Math.abs(x - middle[0]!) < 40 && Math.abs(y - middle[1]!) < 40;
      })
      .toBe(true);
    expect(Number(await map().getAttribute("data-zoom"))).toBeGreaterThanOrEqual(16);
    await page.screenshot({ path: `${SCREENSHOTS}/history-event-picked.png` });

    // A stay puts the replay at the entry, and frames the stretch inside.
    const enter = Number(await stayRow().getAttribute("data-start"));
    await stayRow().click();
    await expect.poll(markerT).toBe(enter);
    await expect.poll(() => stayRow().getAttribute("class")).toContain("current");
    await expect.poll(() => sosRow().getAttribute("class")).not.toContain("current");
    // A mark on the map does the same for its event: the exit, in the framed stretch.
    const exit = Number(await stayRow().getAttribute("data-end"));
    const exitMark = map().locator(`[data-testid=event-mark][data-ts="${exit}"]`);
    await settled(exitMark);
    await exitMark.click();
    await expect.poll(markerT).toBe(exit);
    await page.screenshot({ path: `${SCREENSHOTS}/history-event-stay.png` });
  });

  it("lists the events in a phone's history sheet too, reachable by scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const stay = stayRow();
    await stay.scrollIntoViewIfNeeded();
    expect(await isUncovered(stay)).toBe(true);
    // Inside the sheet, not cut off at its edge.
    expect(contains(await boxOf(page.getByTestId("history-panel")), await boxOf(stay))).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/history-events-narrow.png` });
  });
});

describe("a history with many events", () => {
  it("pages through all of them, and caps the rows and the marks it draws", async () => {
    // A device stuck sounding its alarm: an event with every one of its 650 fixes, two pages.
    const T1 = T0 + 60 * MIN;
    const siren = drive({ ts: T1, lat: 48.3, lon: 16.4, alt: 200 }, [
      { kind: "drive", minutes: 650 / 60, speed: 5, course: 0, everyS: 1 },
    ]).map((f) => ({ ...f, attributes: { alarm: "general" } }));
    expect(siren).toHaveLength(650);
    const socket = await connectDevice(server.url, "siren-1");
    for (let i = 0; i < siren.length; i += 250) await report(socket, siren.slice(i, i + 250));
    socket.close();
    await expect
      .poll(async () => {
        const res = await server.fetch("/api/events?device=siren-1&limit=500");
        return ((await res.json()) as { next: number | null }).next !== null;
      })
      .toBe(true);

    await page.setViewportSize({ width: 1280, height: 800 });
    const from = new Date(T1 - MIN).toISOString();
    const to = new Date(siren.at(-1)!.ts + MIN).toISOString();
    await page.goto(`${server.url}/#/history?device=siren-1&from=${from}&to=${to}`);
    await expect.poll(() => page.getByTestId("history-event-count").textContent()).toBe("650");
    expect(await page.getByTestId("history-event-row").count()).toBe(300);
    expect(await page.getByTestId("history-events-more").textContent()).toMatch(/^350 more/);
    // The rows are the first of the range, in time order.
    const first = page.getByTestId("history-event-row").first();
    expect(Number(await first.getAttribute("data-start"))).toBe(siren[0]!.ts);
    await expect.poll(() => map().getAttribute("data-event-marks")).toBe("300");
    expect(await map().getByTestId("event-mark").count()).toBe(300);
    // Under the chart, ticks closer than 8 px show as one: bounded by the chart's width.
    const ticks = await page.getByTestId("chart-event").count();
    const width = (await boxOf(page.getByTestId("speed-chart"))).width;
    expect(ticks).toBeGreaterThan(50);
    expect(ticks).toBeLessThanOrEqual(width / 8 + 1);
    await page.screenshot({ path: `${SCREENSHOTS}/history-events-many.png` });
  });
});

/** Wait until the element stops moving (the map's flight is over). */
async function settled(locator: Locator): Promise<void> {
  let last = "";
  await expect
    .poll(async () => {
      const now = JSON.stringify(await locator.boundingBox());
      const still = now === last && now !== "null";
      last = now;
      return still;
    })
    .toBe(true);
}

async function replayPlace(): Promise<{ lat: number; lon: number }> {
  const m = page.getByTestId("replay-marker");
  return {
    lat: Number(await m.getAttribute("data-lat")),
    lon: Number(await m.getAttribute("data-lon")),
  };
}
