import express, { Router, type Request } from "express";
import {
  fromGeoJson,
  GeoJsonError,
  toFeatureCollection,
} from "../../../protocol/geofence-geojson.ts";
import { EVENT_TYPES, type EventType } from "../../../protocol/geofence.ts";
import { badRequest } from "../../services/errors.ts";
import { EVENTS_MAX_LIMIT, type EventService } from "../../services/events.ts";
import type { GeofenceService } from "../../services/geofences.ts";
import { intParam, numberParam, timeParam } from "./params.ts";
import { currentUser, requireAdmin } from "./session.ts";

/**
 * `/api/geofences` and `/api/events`, mounted behind requireUser. Everyone signed in sees the
 * fences (they are drawn on every map); only admins change them. Events list only devices the
 * user may see.
 */
export function geofencesRouter(deps: {
  geofences: GeofenceService;
  events: EventService;
}): Router {
  const { geofences, events } = deps;
  const router = Router();
  // A GeoJSON file of many detailed fences is larger than an admin request.
  router.use(
    "/geofences",
    express.json({ limit: "10mb", type: ["application/json", "application/geo+json"] }),
  );

  router.get("/geofences", async (_req, res) => {
    await geofences.refresh();
    res.json({ geofences: geofences.list() });
  });

  router.get("/geofences.geojson", async (_req, res) => {
    await geofences.refresh();
    res.setHeader("Content-Type", "application/geo+json");
    res.setHeader("Content-Disposition", 'attachment; filename="geofences.geojson"');
    res.send(JSON.stringify(toFeatureCollection(geofences.list())));
  });

  router.post("/geofences", requireAdmin, async (req, res) => {
    res.status(201).json(await geofences.create(req.body));
  });

  router.post("/geofences/import", requireAdmin, async (req, res) => {
    let parsed;
    try {
      parsed = fromGeoJson(req.body);
    } catch (err) {
      if (err instanceof GeoJsonError) throw badRequest("body", err.message);
      throw err;
    }
    const stored = await geofences.createAll(parsed.fences);
    res.status(201).json({ imported: stored.length, geofences: stored });
  });

  router.get("/geofences/:id", (req: Request<{ id: string }>, res) => {
    res.json(geofences.get(fenceId(req.params.id)));
  });

  router.patch("/geofences/:id", requireAdmin, async (req: Request<{ id: string }>, res) => {
    res.json(await geofences.update(fenceId(req.params.id), req.body));
  });

  router.delete("/geofences/:id", requireAdmin, async (req: Request<{ id: string }>, res) => {
    await geofences.remove(fenceId(req.params.id));
    res.status(204).end();
  });

  // ?device=&type=geofence_enter,overspeed&geofence=&from=&to=&before=&limit=
  router.get("/events", async (req, res) => {
    const q = req.query;
    const device = typeof q.device === "string" && q.device !== "" ? q.device : undefined;
    const page = await events.list(currentUser(res), {
      deviceId: device,
      types: typesParam(q.type),
      geofenceId: numberParam(q, "geofence", { min: 1, max: Number.MAX_SAFE_INTEGER }),
      from: timeParam(q, "from", 0),
      to: timeParam(q, "to", Number.MAX_SAFE_INTEGER),
      before: numberParam(q, "before", { min: 1, max: Number.MAX_SAFE_INTEGER }),
      limit: intParam(q, "limit", { fallback: 100, min: 1, max: EVENTS_MAX_LIMIT }),
    });
    res.json(page);
  });

  return router;
}

function fenceId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) throw badRequest("id", "must be a geofence id");
  return Number(raw);
}

function typesParam(raw: unknown): EventType[] | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (typeof raw !== "string") throw badRequest("type", "must be given once, as a comma list");
  const types = raw.split(",").map((t) => t.trim());
  for (const t of types) {
    if (!(EVENT_TYPES as readonly string[]).includes(t)) {
      throw badRequest(
        "type",
        `must be one of ${EVENT_TYPES.join(", ")} (got "${t.slice(0, 40)}")`,
      );
    }
  }
  return types as EventType[];
}
