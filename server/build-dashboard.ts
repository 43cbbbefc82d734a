import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "./logger.ts";
import { DIST_DIR, REPO_ROOT, VITE_CONFIG, WEB_DIR } from "./paths.ts";

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** dist/ is stale when anything the dashboard is built from (web/, protocol/, vite config) is newer. */
function dashboardIsStale(): boolean {
  const index = join(DIST_DIR, "index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = [WEB_DIR, join(REPO_ROOT, "protocol"), VITE_CONFIG];
  return sources.some((s) => existsSync(s) && newestMtime(s) > built);
}

/** Build the dashboard with Vite when it is missing or older than its sources. */
export async function ensureDashboardBuilt(logger: Logger): Promise<void> {
  if (!dashboardIsStale()) return;
  logger.info("building the dashboard (dist/ missing or stale)…");
  const started = Date.now();
  // Loaded lazily: a production start with an up-to-date dist/ never pays for importing Vite.
  const { build } = await import("vite");
  await build({ configFile: VITE_CONFIG, logLevel: "warn" });
  logger.info({ ms: Date.now() - started }, "dashboard built");
}
