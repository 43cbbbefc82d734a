import { Router, type Request } from "express";
import {
  deviceIdSchema,
  POSITIONS_DEFAULT_LIMIT,
  POSITIONS_MAX_LIMIT,
  PROTOCOL_VERSION,
  type ClientConfigReply,
  type DevicesReply,
  type HealthReply,
  type PositionsReply,
} from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Access } from "../access/access.ts";
import type { GroupCommitter } from "../ingest/group-commit.ts";
import type { LiveHub } from "../live/hub.ts";
import type { PositionStore } from "../store/position-store.ts";
import { canSee } from "../store/user-store.ts";
import { BadRequest, choiceParam, intParam, timeParam } from "./params.ts";
import { currentUser, requireUser } from "./session.ts";

export class NotFound extends Error {}

export interface ApiDeps {
  store: PositionStore;
  hub: LiveHub;
  committer: GroupCommitter;
  access: Access;
  config: Readonly<Config>;
  clock: Clock;
  version: string;
}

/** The REST API under /api: read-only views of the fleet and its history. */
export function apiRouter({
  store,
  hub,
  committer,
  access,
  config,
  clock,
  version,
}: ApiDeps): Router {
  const router = Router();
  const startedAt = clock.now();

  router.get("/health", (_req, res) => {
    const devices = hub.list();
    const reply: HealthReply = {
      ok: true,
      version,
      protocol: PROTOCOL_VERSION,
      uptimeMs: clock.now() - startedAt,
      devices: devices.length,
      devicesOnline: devices.filter((d) => d.status !== "offline").length,
      ingest: { ...committer.stats, queued: committer.queued },
    };
    res.json(reply);
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
    const reply: DevicesReply = { devices: hub.list().filter((d) => canSee(user, d.id)) };
    res.json(reply);
  });

  router.get("/devices/:id/positions", (req, res) => {
    const deviceId = req.params.id;
    // Not granted answers exactly like unknown, so a viewer cannot probe which devices exist.
    const visible = canSee(currentUser(res), deviceId);
    if (!deviceIdSchema.safeParse(deviceId).success || !store.hasDevice(deviceId) || !visible) {
      throw new NotFound(`no device "${deviceId}"`);
    }
    const from = timeParam(req.query, "from", 0);
    const to = timeParam(req.query, "to", Number.MAX_SAFE_INTEGER);
    if (from > to) throw new BadRequest("from", "must not be after to");
    const limit = intParam(req.query, "limit", {
      fallback: POSITIONS_DEFAULT_LIMIT,
      min: 1,
      max: POSITIONS_MAX_LIMIT,
    });
    // One row more than asked tells whether a next page exists without a second query.
    const flagged = choiceParam(req.query, "flagged", ["exclude", "include"], "exclude");
    const rows = store.positions(deviceId, {
      from,
      to,
      limit: limit + 1,
      withFlagged: flagged === "include",
    });
    const positions = rows.slice(0, limit);
    const more = rows.length > limit;
    const reply: PositionsReply = {
      deviceId,
      from,
      to,
      positions,
      next: more ? nextPageUrl(req, { from: positions.at(-1)!.ts + 1, to, limit, flagged }) : null,
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
