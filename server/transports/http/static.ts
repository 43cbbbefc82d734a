import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type Router } from "express";

/**
 * The built dashboard at `/`. Unknown non-API paths get index.html so a shared link with a query
 * (a selected vehicle) reloads into the app.
 */
export function dashboardRouter(distDir: string): Router {
  const router = express.Router();
  const index = join(distDir, "index.html");
  router.use(express.static(distDir, { index: false, maxAge: "1h" }));
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
