import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { REPO, stop } from "../lib/proc.ts";
import type { ScenarioResult } from "../lib/report.ts";
import {
  ADMIN_PASSWORD,
  Children,
  descendants,
  measureCpu,
  sleep,
  startLocus,
  urlOf,
  waitForQuiet,
} from "./common.ts";

const VEHICLES = Number(process.env.BENCH_DASHBOARD_VEHICLES ?? 10_000);
const MEASURE_MS = 10_000;
/** File for a CPU profile of the page while measured with vehicles (the empty run overwrites none). */
const PAGE_PROFILE = process.env.BENCH_PAGE_PROFILE;
const VIEWPORT = { width: 1280, height: 800 };
const CHROMIUM_ARGS = [
  ...["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  ...["--disable-background-networking", "--disable-component-update", "--disable-sync"],
];

interface Frames {
  fps: number;
  longestMs: number;
  p95Ms: number;
  over100: number;
  longTasks: number;
  minDrawn: number;
  maxDrawn: number;
}

/**
 * requestAnimationFrame timestamps over `ms`: each one is the start of a frame Chromium
 * produced, so the gaps are frame times and include whatever the page did in between
 * (applying batches, drawing the canvas, Svelte updates). Long tasks are counted alongside.
 * A string, not a function: tsx would wrap named functions in a `__name` helper the page lacks.
 */
const MEASURE_FRAMES = `async (ms) => {
  const canvas = document.querySelector("[data-testid=vehicle-canvas]");
  let longTasks = 0;
  const observer = new PerformanceObserver((list) => (longTasks += list.getEntries().length));
  observer.observe({ type: "longtask" });
  const times = [];
  let minDrawn = Infinity;
  let maxDrawn = 0;
  await new Promise((resolve) => {
    requestAnimationFrame(function step(t) {
      times.push(t);
      const drawn = Number(canvas?.getAttribute("data-drawn") ?? 0);
      minDrawn = Math.min(minDrawn, drawn);
      maxDrawn = Math.max(maxDrawn, drawn);
      if (t - times[0] < ms) requestAnimationFrame(step);
      else resolve();
    });
  });
  observer.disconnect();
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const sorted = [...gaps].sort((a, b) => a - b);
  return {
    fps: gaps.length / ((times.at(-1) - times[0]) / 1000),
    longestMs: sorted.at(-1) ?? 0,
    p95Ms: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
    over100: gaps.filter((g) => g > 100).length,
    longTasks,
    minDrawn,
    maxDrawn,
  };
}`;

/**
 * Frames, plus what the page took in meanwhile (socket.io frames on its websocket) and how busy
 * its main thread was (CDP Performance.TaskDuration): 60 fps from a page that stopped drawing
 * or stopped receiving would prove nothing.
 */
async function measurePage(page: Page, ms: number, withProfile = false) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const taskSeconds = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    return metrics.find((m) => m.name === "TaskDuration")?.value ?? 0;
  };
  if (withProfile && PAGE_PROFILE) await cdp.send("Profiler.enable");
  if (withProfile && PAGE_PROFILE) await cdp.send("Profiler.start");
  const live = received.get(page)!;
  live.maxGapMs = live.maxBytes = 0;
  const before = { task: await taskSeconds(), ...live };
  const frames = (await page.evaluate(`(${MEASURE_FRAMES})(${ms})`)) as Frames;
  const busy = ((await taskSeconds()) - before.task) / (ms / 1000);
  if (withProfile && PAGE_PROFILE) {
    const { profile } = await cdp.send("Profiler.stop");
    writeFileSync(PAGE_PROFILE, JSON.stringify(profile));
  }
  await cdp.detach();
  return {
    ...frames,
    mainThreadBusy: Math.round(busy * 100),
    messagesPerS: (live.messages - before.messages) / (ms / 1000),
    kbPerS: (live.bytes - before.bytes) / 1024 / (ms / 1000),
    maxGapMs: live.maxGapMs,
    maxKb: live.maxBytes / 1024,
  };
}

interface Received {
  messages: number;
  bytes: number;
  last: number;
  maxGapMs: number;
  maxBytes: number;
}

/** Live batches each page has received on its websocket (counted from before it loads). */
const received = new WeakMap<Page, Received>();

/** Open the dashboard signed in as the admin and wait until it is live. */
async function openDashboard(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const counts = { messages: 0, bytes: 0, last: 0, maxGapMs: 0, maxBytes: 0 };
  received.set(page, counts);
  page.on("websocket", (ws) =>
    ws.on("framereceived", (f) => {
      // Only live batches: engine.io pings and probes are a few bytes.
      if (f.payload.length < 100) return;
      const now = Date.now();
      if (counts.last) counts.maxGapMs = Math.max(counts.maxGapMs, now - counts.last);
      counts.last = now;
      counts.messages++;
      counts.bytes += f.payload.length;
      counts.maxBytes = Math.max(counts.maxBytes, f.payload.length);
    }),
  );
  // No internet here: map tiles must fail fast rather than hang the page.
  await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
  // page.request shares the page's cookie jar, so this signs the page in.
  const login = await page.request.post(`${url}/api/session`, {
    data: { username: "admin", password: ADMIN_PASSWORD },
  });
  if (!login.ok()) throw new Error(`sign-in failed: HTTP ${login.status()}`);
  await page.goto(url);
  await page.locator("[data-testid=connection][data-state=live]").waitFor({ timeout: 30_000 });
  return page;
}

const count = (page: Page, what: string) =>
  page.evaluate((what) => {
    const el = document.querySelector(`[data-testid=${what}]`);
    return Number(
      (what === "vehicle-canvas" ? el?.getAttribute("data-drawn") : el?.textContent) ?? 0,
    );
  }, what);

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

const chromiumPids = () =>
  descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("chrom");
    } catch {
      return false;
    }
  });

export async function dashboard(): Promise<ScenarioResult> {
  await ensureDashboardBuilt(silentLogger);
  const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
  const children = new Children();
  let browser: Browser | null = null;
  let sim: ChildProcess | null = null;
  try {
    const server = await startLocus(children, join(dir, "d.db"));
    const url = urlOf(server);
    const serverPid = server.child.pid!;
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });

    // Baseline: the same page, live, with no vehicles at all.
    console.log("  empty dashboard…");
    let page = await openDashboard(browser, url);
    await waitForQuiet([serverPid, ...chromiumPids()], 60_000);
    const [empty, emptyCpu] = await Promise.all([
      measurePage(page, MEASURE_MS),
      measureCpu({ server: [serverPid], browser: chromiumPids() }, MEASURE_MS),
    ]);
    await page.close();

    console.log(`  ${VEHICLES} simulated vehicles…`);
    // The real simulator in its own process; --duration bounds it should we never stop it.
    sim = spawn(
      process.execPath,
      [
        ...["--import", "tsx", "simulator/cli.ts", "--url", url],
        ...["--vehicles", String(VEHICLES), "--interval", "1000", "--duration", "600"],
      ],
      { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] },
    );
    // The page opens once every vehicle reports: its first snapshot then frames the whole fleet,
    // and the connect storm of 10,000 devices is not fought over with a rendering Chromium.
    await until(`${VEHICLES} vehicles online`, 180_000, async () => {
      const health = await fetch(`${url}/api/health`).then((r) => r.json());
      return health.devicesOnline >= VEHICLES;
    });
    await sleep(5000); // backlogs from the connect storm delivered
    page = await openDashboard(browser, url);
    await until(
      "the whole fleet drawn",
      30_000,
      async () => (await count(page, "vehicle-canvas")) >= VEHICLES,
    );
    await sleep(3000); // past the first glides and the initial layout
    await waitForQuiet([serverPid, sim.pid!, ...chromiumPids()], 60_000);
    const [moving, movingCpu] = await Promise.all([
      measurePage(page, MEASURE_MS, true),
      measureCpu(
        { server: [serverPid], simulator: [sim.pid!], browser: chromiumPids() },
        MEASURE_MS,
      ),
    ]);
    const shown = await count(page, "vehicle-count");
    // What the measured page looked like, to be looked at (test-results/ is not committed).
    await page.screenshot({ path: join(REPO, "test-results", `bench-dashboard-${VEHICLES}.png`) });

    const met = moving.fps >= 30 && moving.longestMs <= 100;
    return {
      scenario: `dashboard (${VEHICLES.toLocaleString("en")} vehicles at 1 Hz, headless Chromium ${VIEWPORT.width}×${VIEWPORT.height}, ${MEASURE_MS / 1000} s)`,
      figures: {
        "frames per second": Number(moving.fps.toFixed(1)),
        "longest frame ms": Math.round(moving.longestMs),
        "p95 frame ms": Math.round(moving.p95Ms),
        "frames over 100 ms / long tasks (> 50 ms)": `${moving.over100} / ${moving.longTasks}`,
        "page main thread busy %": moving.mainThreadBusy,
        "live batches received per s / KB per s": `${moving.messagesPerS.toFixed(1)} / ${Math.round(moving.kbPerS)}`,
        "longest gap between live batches ms / largest batch KB": `${moving.maxGapMs} / ${Math.round(moving.maxKb)}`,
        "vehicles counted / drawn per frame (min–max)": `${shown} / ${moving.minDrawn}–${moving.maxDrawn}`,
        "CPU % of one core: Chromium / server / simulator / other processes": `${movingCpu.browser} / ${movingCpu.server} / ${movingCpu.simulator} / ${movingCpu.others}`,
        "target ≥ 30 fps, no frame over 100 ms": met ? "met" : "MISSED",
      },
      baseline: {
        "no vehicles: frames per second": Number(empty.fps.toFixed(1)),
        "no vehicles: longest frame ms": Math.round(empty.longestMs),
        "no vehicles: page main thread busy %": empty.mainThreadBusy,
        "no vehicles: CPU % Chromium / server / others": `${emptyCpu.browser} / ${emptyCpu.server} / ${emptyCpu.others}`,
      },
      ratio: moving.fps / empty.fps,
      notes:
        "Frame times are the gaps between requestAnimationFrame timestamps in the page, measured while the " +
        "simulator (simulator/cli.ts, its own process) streams every vehicle once a second; the page was " +
        "opened once every vehicle was online, so its first snapshot frames the whole fleet. Software " +
        "rendering (--disable-gpu). Live batches per s and the longest gap show how the server delivered: " +
        "when its 100 ms tick slips, the page gets the whole fleet in one batch every few seconds and its " +
        "load comes in bursts. Chromium, the server and the simulator share the same 2 cores. Set " +
        "BENCH_PAGE_PROFILE (a file) or BENCH_CPU_PROF_DIR to profile the page or the server. Ratio: " +
        "fps with vehicles / fps of the same page with none, same run.",
    };
  } finally {
    await browser?.close();
    if (sim) await stop(sim);
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
