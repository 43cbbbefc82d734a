import { Router, type Request, type Response } from "express";
import type { TrackReply } from "../../../protocol/history.ts";
import type { AccessService } from "../../services/access.ts";
import { badRequest } from "../../services/errors.ts";
import type { HistoryService } from "../../services/history.ts";
import { bboxParam, numberParam, rangeParams } from "./params.ts";
import { currentUser, requireUser } from "./session.ts";

/** Highest tolerance anyone needs: a few times the Earth's circumference shows it all. */
const MAX_TOLERANCE_M = 1e8;

/** `GET /api/devices/:id/track`: the level-of-detail track of one device (protocol/history.ts). */
export function trackRouter(deps: { access: AccessService; history: HistoryService }): Router {
  const router = Router();

  router.get(
    "/devices/:id/track",
    requireUser(deps.access),
    async (req: Request<{ id: string }>, res: Response) => {
      const started = performance.now();
      const deviceId = req.params.id;
      const range = rangeParams(req.query);
      const zoom = numberParam(req.query, "zoom", { min: 0, max: 22 });
      const toleranceM = numberParam(req.query, "tolerance", { min: 0, max: MAX_TOLERANCE_M });
      if (zoom !== undefined && toleranceM !== undefined) {
        throw badRequest("tolerance", "give either zoom or tolerance, not both");
      }
      const bbox = bboxParam(req.query, "bbox");
      const result = await deps.history.track(currentUser(res), deviceId, {
        ...range,
        // Neither: raw fixes, within the raw cap.
        detail: zoom !== undefined ? { zoom } : { toleranceM: toleranceM ?? 0 },
        ...(bbox ? { bbox } : {}),
      });
      const reply: TrackReply = {
        deviceId,
        ...range,
        toleranceM: result.toleranceM,
        segments: result.segments,
      };
      const beforeJson = performance.now();
      const body =
        result.segmentsJson === undefined
          ? JSON.stringify(reply)
          : // The same object with the segments the database already wrote as JSON (the last key).
            `${JSON.stringify(reply).slice(0, -"[]}".length)}${result.segmentsJson}}`;
      const { readMs, simplifyMs, level, rowsRead } = result.timing;
      const ms = (n: number) => n.toFixed(1);
      res
        .status(200)
        .type("application/json")
        .set(
          "Server-Timing",
          [
            `read;dur=${ms(readMs)};desc="level ${level}, ${rowsRead} rows"`,
            `simplify;dur=${ms(simplifyMs)}`,
            `json;dur=${ms(performance.now() - beforeJson)}`,
            `total;dur=${ms(performance.now() - started)}`,
          ].join(", "),
        )
        // Sent as is: express's ETag would hash megabytes of JSON that are never cached.
        .end(body);
    },
  );

  return router;
}
