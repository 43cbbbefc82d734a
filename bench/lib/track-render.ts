import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ADMIN_PASSWORD } from "../scenarios/common.ts";
import { REPO } from "./proc.ts";

const CHROMIUM_ARGS = [
  ...["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  ...["--disable-background-networking", "--disable-component-update", "--disable-sync"],
];
const VIEWPORT = { width: 1280, height: 800 };

/**
 * A bare Leaflet map (canvas renderer, no tiles), served on Locus's own origin by Playwright so
 * the page's fetch carries the session cookie. `drawTrack(url)` times what a dashboard does:
 * fetch the reply, parse it, add the segments as one polyline, and wait for the frame that
 * paints it.
 */
const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/bench-leaflet/leaflet.css">
<style>html,body,#map{margin:0;width:100%;height:100%}</style></head>
<body><div id="map"></div><script src="/bench-leaflet/leaflet.js"></script><script>
const map = L.map("map", { preferCanvas: true, zoomControl: false });
map.setView([0, 0], 2);
let layer = null;
const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
window.drawTrack = async (url, zoom) => {
  if (layer) layer.remove();
  await frame();
  const t0 = performance.now();
  const reply = await (await fetch(url)).json();
  const t1 = performance.now();
  const lines = reply.segments.map((s) => s.map((p) => [p[1], p[2]]));
  layer = L.polyline(lines, { weight: 2, color: "#1565c0" });
  map.setView(layer.getBounds().getCenter(), zoom, { animate: false });
  layer.addTo(map);
  await frame();
  await frame();
  const t2 = performance.now();
  return { totalMs: t2 - t0, fetchMs: t1 - t0, drawMs: t2 - t1, vertices: lines.flat().length };
};
</script></body></html>`;

export interface RenderTimes {
  totalMs: number[];
  fetchMs: number[];
  drawMs: number[];
  vertices: number;
}

/** Draw `path` (a track URL on `url`) `times` times in headless Chromium; returns each timing. */
export async function renderTrack(
  url: string,
  path: string,
  zoom: number,
  times: number,
): Promise<RenderTimes> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
    const leaflet = join(REPO, "node_modules/leaflet/dist");
    await page.route(`${url}/bench-track.html`, (route) =>
      route.fulfill({ contentType: "text/html", body: PAGE }),
    );
    await page.route(`${url}/bench-leaflet/*`, (route) => {
      const name = new URL(route.request().url()).pathname.split("/").pop()!;
      route.fulfill({
        contentType: name.endsWith(".css") ? "text/css" : "text/javascript",
        body: readFileSync(join(leaflet, name), "utf8"),
      });
    });
    const login = await page.request.post(`${url}/api/session`, {
      data: { username: "admin", password: ADMIN_PASSWORD },
    });
    if (!login.ok()) throw new Error(`sign-in failed: HTTP ${login.status()}`);
    await page.goto(`${url}/bench-track.html`);
    const out: RenderTimes = { totalMs: [], fetchMs: [], drawMs: [], vertices: 0 };
    for (let i = 0; i < times; i++) {
      // A string, not a function: tsx may wrap functions in helpers the page lacks.
      const r = (await page.evaluate(`window.drawTrack(${JSON.stringify(path)}, ${zoom})`)) as {
        totalMs: number;
        fetchMs: number;
        drawMs: number;
        vertices: number;
      };
      out.totalMs.push(r.totalMs);
      out.fetchMs.push(r.fetchMs);
      out.drawMs.push(r.drawMs);
      out.vertices = r.vertices;
    }
    if (process.env.BENCH_HISTORY_SCREENSHOT) {
      await page.screenshot({ path: process.env.BENCH_HISTORY_SCREENSHOT });
    }
    return out;
  } finally {
    await browser.close();
  }
}
