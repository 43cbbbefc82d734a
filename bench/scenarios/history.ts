import Database from "better-sqlite3";
import { historyDb, YEAR_DEVICE } from "../lib/history-db.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { renderTrack } from "../lib/track-render.ts";
import { Children, sessionCookie, startLocus, urlOf, waitForQuiet } from "./common.ts";

export const DAYS = Number(process.env.BENCH_HISTORY_DAYS ?? 365);
export const REQUESTS = Number(process.env.BENCH_HISTORY_REQUESTS ?? 30);
export const DAY_MS = 86_400_000;
const VIEW = { width: 1280, height: 800 };

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
};
export const p50p99 = (values: number[]) =>
  `${percentile(values, 0.5).toFixed(1)} / ${percentile(values, 0.99).toFixed(1)}`;

/** The Web Mercator zoom at which a box fills a 1280×800 view, and the view's box. */
export function fitZoom(box: { south: number; north: number; west: number; east: number }) {
  const mercY = (lat: number) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  const dx = (box.east - box.west) / 360;
  const dy = (mercY(box.north) - mercY(box.south)) / (2 * Math.PI);
  const zoom = Math.floor(Math.log2(Math.min(VIEW.width / (256 * dx), VIEW.height / (256 * dy))));
  // The view at that zoom, centred on the box (what Leaflet's getBounds would send).
  const scale = 256 * 2 ** zoom;
  const cx = (box.west + box.east) / 2;
  const cy = (mercY(box.north) + mercY(box.south)) / 2;
  const halfLon = ((VIEW.width / 2 / scale) * 360) / 1;
  const halfY = (VIEW.height / 2 / scale) * 2 * Math.PI;
  const lat = (y: number) => (Math.atan(Math.exp(y)) * 360) / Math.PI - 90;
  return {
    zoom,
    bbox: [cx - halfLon, lat(cy - halfY), cx + halfLon, lat(cy + halfY)].map((v) => v.toFixed(5)),
  };
}

export interface Timed {
  serverMs: number[];
  wallMs: number[];
  vertices: number;
  segments: number;
  toleranceM: number;
  kb: number;
  timing: string;
}

export async function measure(
  url: string,
  cookie: string | undefined,
  path: string,
): Promise<Timed> {
  const out: Timed = {
    serverMs: [],
    wallMs: [],
    vertices: 0,
    segments: 0,
    toleranceM: 0,
    kb: 0,
    timing: "",
  };
  for (let i = 0; i < REQUESTS + 3; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}${path}`, { headers: cookie ? { cookie } : {} });
    const text = await res.text();
    const wall = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    const timing = res.headers.get("server-timing") ?? "";
    const total = Number(/total;dur=([\d.]+)/.exec(timing)?.[1]);
    if (i < 3) continue; // warm-up: page cache and JIT
    out.serverMs.push(total);
    out.wallMs.push(wall);
    const reply = JSON.parse(text) as { segments: unknown[][]; toleranceM: number };
    out.vertices = reply.segments.reduce((n, s) => n + s.length, 0);
    out.segments = reply.segments.length;
    out.toleranceM = reply.toleranceM;
    out.kb = text.length / 1024;
    out.timing = timing;
  }
  return out;
}

/** The same rows read by bare better-sqlite3, no Locus in between. */
function baseline(file: string, device: number, from: number, to: number, runs: number): number[] {
  const db = new Database(file, { readonly: true });
  try {
    const scan = db
      .prepare("SELECT ts, lat, lon FROM positions WHERE device = ? AND ts BETWEEN ? AND ?")
      .raw();
    const times: number[] = [];
    for (let r = 0; r < runs + 1; r++) {
      const t0 = performance.now();
      // A month per call: a year of rows at once would not fit in the heap (same work per row).
      for (let at = from; at <= to; at += 31 * DAY_MS)
        scan.all(device, at, Math.min(to, at + 31 * DAY_MS - 1));
      if (r > 0) times.push(performance.now() - t0);
    }
    return times;
  } finally {
    db.close();
  }
}

/** The year, day and week asked of a generated history database, and what it holds. */
export function queriesOf(made: { file: string; start: number }) {
  const db = new Database(made.file, { readonly: true });
  const device = db
    .prepare("SELECT id FROM devices WHERE uid = ?")
    .pluck()
    .get(YEAR_DEVICE) as number;
  const box = db
    .prepare(
      "SELECT min(south) AS south, max(north) AS north, min(west) AS west, max(east) AS east FROM track_chunks WHERE device = ?",
    )
    .get(device) as { south: number; north: number; west: number; east: number };
  const rows = db
    .prepare("SELECT count(*) FROM positions WHERE device = ?")
    .pluck()
    .get(device) as number;
  const totalRows = db.prepare("SELECT count(*) FROM positions").pluck().get() as number;
  db.close();

  const from = made.start;
  const to = made.start + DAYS * DAY_MS - 1;
  const dayFrom = made.start + Math.floor(DAYS / 2) * DAY_MS;
  const weekFrom = made.start + Math.max(0, Math.floor(DAYS / 2) - 7) * DAY_MS;
  const weekTo = Math.min(to, weekFrom + 7 * DAY_MS - 1);
  const whole = fitZoom(box);
  const paths = {
    year: `/api/devices/${YEAR_DEVICE}/track?from=${from}&to=${to}&zoom=${whole.zoom}&bbox=${whole.bbox.join(",")}`,
    day: `/api/devices/${YEAR_DEVICE}/track?from=${dayFrom}&to=${dayFrom + DAY_MS - 1}&tolerance=0`,
    week: `/api/devices/${YEAR_DEVICE}/track?from=${weekFrom}&to=${weekTo}&zoom=12`,
  };

  return { device, rows, totalRows, from, to, dayFrom, weekFrom, weekTo, whole, paths };
}

export async function history(): Promise<ScenarioResult> {
  console.log(`  database: one car, ${DAYS} days at 1 Hz (cached after the first run)…`);
  const made = await historyDb(DAYS);
  const { device, rows, totalRows, from, to, dayFrom, weekFrom, weekTo, whole, paths } =
    queriesOf(made);

  const children = new Children();
  try {
    const server = await startLocus(children, made.file);
    const url = urlOf(server);
    const cookie = await sessionCookie(url);
    const othersCpu = await waitForQuiet([server.child.pid!], 60_000);
    console.log("  year at whole-view zoom…");
    const year = await measure(url, cookie, paths.year);
    console.log("  one day raw…");
    const day = await measure(url, cookie, paths.day);
    console.log("  one week at zoom 12…");
    const week = await measure(url, cookie, paths.week);
    console.log("  drawing the year in Chromium…");
    const render = await renderTrack(url, paths.year, whole.zoom, 10);
    await children.stopAll();

    console.log("  baseline: bare SQLite range scans…");
    const baseYear = baseline(made.file, device, from, to, 3);
    const baseDay = baseline(made.file, device, dayFrom, dayFrom + DAY_MS - 1, REQUESTS);
    const baseWeek = baseline(made.file, device, weekFrom, weekTo, REQUESTS);
    const dayRows = day.vertices;

    const met =
      percentile(year.serverMs, 0.5) < 300 &&
      percentile(day.serverMs, 0.5) < 150 &&
      percentile(render.totalMs, 0.5) < 1000;
    const gen = made.generated;
    return {
      scenario: `history (one car, ${DAYS} days at 1 Hz = ${rows.toLocaleString("en")} fixes among ${totalRows.toLocaleString("en")}; ${REQUESTS} requests each)`,
      figures: {
        [`year, zoom ${whole.zoom} + view bbox: server ms p50 / p99`]: p50p99(year.serverMs),
        "year: client wall ms p50 / p99": p50p99(year.wallMs),
        "year: vertices / segments / tolerance m / KB": `${year.vertices} / ${year.segments} / ${year.toleranceM.toFixed(0)} / ${Math.round(year.kb)}`,
        "year drawn in Chromium (fetch + parse + Leaflet canvas polyline + paint) ms p50 / p99":
          p50p99(render.totalMs),
        "year in Chromium: fetch+parse / draw ms p50": `${percentile(render.fetchMs, 0.5).toFixed(0)} / ${percentile(render.drawMs, 0.5).toFixed(0)}`,
        "day raw (tolerance=0): server ms p50 / p99": p50p99(day.serverMs),
        "day raw: client wall ms p50 / p99": p50p99(day.wallMs),
        "day raw: fixes / KB": `${dayRows} / ${Math.round(day.kb)}`,
        "week, zoom 12: server ms p50 / p99": p50p99(week.serverMs),
        "week: client wall ms p50 / p99": p50p99(week.wallMs),
        "week: vertices / tolerance m": `${week.vertices} / ${week.toleranceM.toFixed(1)}`,
        "target: year < 300 ms, day < 150 ms (server p50), drawn < 1 s": met ? "met" : "MISSED",
        "Server-Timing of the last year request": year.timing,
        "other processes' CPU % (of one core) when measuring began": othersCpu,
        ...(gen
          ? {
              "generation: rows / insert s / levels built (hours) / levels s": `${gen.rows} / ${gen.insertS.toFixed(0)} / ${gen.chunks} / ${gen.levelsS.toFixed(0)}`,
            }
          : {}),
      },
      baseline: {
        "bare SQLite scan of the year's rows ms p50 (3 runs)": percentile(baseYear, 0.5),
        "bare SQLite scan of the day's rows ms p50 / p99": p50p99(baseDay),
        "bare SQLite scan of the week's rows ms p50 / p99": p50p99(baseWeek),
      },
      ratio: percentile(year.serverMs, 0.5) / percentile(baseYear, 0.5),
      notes:
        "Server time is the route's own Server-Timing total (query + simplification + JSON), client wall time " +
        "adds HTTP and the transfer. The year is asked at the zoom that fits its whole box in a 1280×800 view, " +
        "with that view as bbox, as a map client would. Baseline: `SELECT ts, lat, lon FROM positions WHERE " +
        "device = ? AND ts BETWEEN ? AND ?` with .raw().all() on the same file (the year in month-long calls, " +
        "it would not fit in the heap at once). Ratio: year server p50 / year baseline p50. The database is " +
        "generated once (simulator/history-track.ts: the simulator's street model by day, parked at night, " +
        "tracker off now and then, a new city every 30 days) and cached in the temp folder; " +
        "BENCH_HISTORY_DAYS shrinks it. Levels are built by the server's own LevelBuilder.",
    };
  } finally {
    await children.stopAll();
  }
}
