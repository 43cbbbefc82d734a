import type { RequestHandler } from "express";
import type { LocusMetrics } from "../../observability/metrics.ts";
import type { AccessService } from "../../services/access.ts";

/**
 * `GET /metrics` in Prometheus' text format, for admins and the scrape token (AccessService
 * decides; refusals are the API's JSON errors). Outside /api: where Prometheus looks by default.
 */
export function metricsHandler(deps: {
  access: AccessService;
  metrics: LocusMetrics;
}): RequestHandler {
  const { access, metrics } = deps;
  return async (req, res) => {
    await access.checkMetricsReader(req.headers);
    const text = await metrics.scrape();
    res.setHeader("Cache-Control", "no-store");
    res.type(metrics.contentType).send(text);
  };
}
