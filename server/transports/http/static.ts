import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import express, { type Router } from "express";

/** web/public/sw.js: at the root, so its scope is the whole dashboard. */
export const SERVICE_WORKER = "sw.js";

/**
 * The built dashboard at `/`. Unknown non-API paths get index.html so a shared link with a query
 * (a selected vehicle) reloads into the app.
 */
export function dashboardRouter(distDir: string): Router {
  const router = express.Router();
  const index = join(distDir, "index.html");
  router.use(
    express.static(distDir, {
      index: false,
      maxAge: "1h",
      setHeaders(res, path) {
        // The service worker is looked at on every visit: a cached copy would keep an old one
        // running for an hour after an upgrade.
        if (path.endsWith(`${sep}${SERVICE_WORKER}`)) res.setHeader("Cache-Control", "no-cache");
      },
    }),
  );
  router.get(/^(?!\/api\/|\/socket\.io\/).*/, (_req, res) => {
    if (existsSync(index)) {
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(index);
    } else {
      res
        .status(503)
        .type("text/plain")
        .send("The dashboard is not built yet: run `npm run build` (or start with `npm start`).\n");
    }
  });
  return router;
}
