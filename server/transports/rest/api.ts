import { Router, type Request } from "express";
import {
  POSITIONS_DEFAULT_LIMIT,
  POSITIONS_MAX_LIMIT,
  PROTOCOL_VERSION,
  type ClientConfigReply,
  type DevicesReply,
  type HealthReply,
  type PositionsReply,
} from "../../../protocol/index.ts";
import type { Clock } from "../../clock.ts";
import type { Config } from "../../config.ts";
import type { LiveHub } from "../../live/hub.ts";
import type { HealthChecks } from "../../observability/health.ts";
import type { AccessService } from "../../services/access.ts";
import type { HistoryService } from "../../services/history.ts";
import type { PositionStore } from "../../stores/ports.ts";
import { choiceParam, intParam, rangeParams } from "./params.ts";
import { currentUser, requireUser } from "./session.ts";

export interface ApiDeps {
  hub: LiveHub;
  access: AccessService;
  history: HistoryService;
  /** For the ingest figures in /api/health. */
  positions: PositionStore;
  /** The store's and optional parts' checks (the same /metrics reports). */
  health: HealthChecks;
  config: Readonly<Config>;
  clock: Clock;
  version: string;
}

/** The REST API under /api: health, the dashboard's settings, the fleet and raw positions. */
export function apiRouter({
  hub,
  access,
  history,
  positions,
  health,
  config,
  clock,
  version,
}: ApiDeps): Router {
  const router = Router();
  const startedAt = clock.now();

  // A load balancer or orchestrator takes a 503 as "send devices elsewhere": a node whose store
  // cannot commit can only refuse reports.
  router.get("/health", (_req, res) => {
    const devices = hub.list();
    const { ok, checks } = health.run();
    const reply: HealthReply = {
      ok,
      version,
      protocol: PROTOCOL_VERSION,
      uptimeMs: clock.now() - startedAt,
      devices: devices.length,
      devicesOnline: devices.filter((d) => d.status !== "offline").length,
      ingest: positions.stats(),
      checks,
    };
    res.status(ok ? 200 : 503).json(reply);
  });

  router.get("/config", (_req, res) => {
    const reply: ClientConfigReply = {
      tileUrl: config.tileUrl,
      tileAttribution: config.tileAttribution,
      tickMs: config.tickMs,
      trailMinutes: config.trailMinutes,
    };
    res.json(reply);
  });

  // Everything below needs a signed-in user, and shows only the devices granted to them.
  router.use(requireUser(access));

  router.get("/devices", (_req, res) => {
    const user = currentUser(res);
    const reply: DevicesReply = { devices: hub.list().filter((d) => access.canSee(user, d.id)) };
    res.json(reply);
  });

  router.get("/devices/:id/positions", async (req, res) => {
    const deviceId = req.params.id;
    const range = rangeParams(req.query);
    const limit = intParam(req.query, "limit", {
      fallback: POSITIONS_DEFAULT_LIMIT,
      min: 1,
      max: POSITIONS_MAX_LIMIT,
    });
    const flagged = choiceParam(req.query, "flagged", ["exclude", "include"], "exclude");
    const page = await history.page(currentUser(res), deviceId, {
      ...range,
      limit,
      withFlagged: flagged === "include",
    });
    const last = page.positions.at(-1);
    const reply: PositionsReply = {
      deviceId,
      ...range,
      positions: page.positions,
      next:
        page.more && last
          ? nextPageUrl(req, { from: last.ts + 1, to: range.to, limit, flagged })
          : null,
    };
    res.json(reply);
  });

  return router;
}

/** Pages continue after the last `ts` returned: (device, ts) is unique, so no row repeats or goes missing. */
function nextPageUrl(req: Request, page: Record<string, string | number>): string {
  const params = new URLSearchParams(Object.entries(page).map(([k, v]) => [k, String(v)]));
  return `${req.baseUrl}${req.path}?${params}`;
}
