import { Router, type Request, type Response } from "express";
import { deviceIdSchema, type ErrorReply } from "../../protocol/index.ts";
import type { TrackReply } from "../../protocol/history.ts";
import type { Access } from "../access/access.ts";
import type { GapRule } from "../history/gaps.ts";
import { queryTrack, TrackNotReady, type TrackQuery } from "../history/track-query.ts";
import type { TrackStore } from "../store/track-store.ts";
import { canSee } from "../store/user-store.ts";
import { NotFound } from "./api.ts";
import { BadRequest, bboxParam, numberParam, timeParam } from "./params.ts";
import { currentUser, requireUser } from "./session.ts";

export interface TrackRouteDeps {
  tracks: TrackStore;
  access: Access;
  gaps: GapRule;
}

/** Highest tolerance anyone needs: a few times the Earth's circumference shows it all. */
const MAX_TOLERANCE_M = 1e8;

/** `GET /api/devices/:id/track`: the level-of-detail track of one device (protocol/history.ts). */
export function trackRouter({ tracks, access, gaps }: TrackRouteDeps): Router {
  const router = Router();

  router.get(
    "/devices/:id/track",
    requireUser(access),
    (req: Request<{ id: string }>, res: Response) => {
      const started = performance.now();
      const deviceId = req.params.id;
      // Not granted answers exactly like unknown, as for /positions.
      const visible = canSee(currentUser(res), deviceId);
      const device = deviceIdSchema.safeParse(deviceId).success
        ? tracks.deviceKey(deviceId)
        : undefined;
      if (device === undefined || !visible) throw new NotFound(`no device "${deviceId}"`);

      const from = timeParam(req.query, "from", 0);
      const to = timeParam(req.query, "to", Number.MAX_SAFE_INTEGER);
      if (from > to) throw new BadRequest("from", "must not be after to");
      const zoom = numberParam(req.query, "zoom", { min: 0, max: 22 });
      const toleranceM = numberParam(req.query, "tolerance", { min: 0, max: MAX_TOLERANCE_M });
      if (zoom !== undefined && toleranceM !== undefined) {
        throw new BadRequest("tolerance", "give either zoom or tolerance, not both");
      }
      const bbox = bboxParam(req.query, "bbox");
      const query: TrackQuery = {
        device,
        from,
        to,
        // Neither: raw fixes, within the raw cap.
        detail: zoom !== undefined ? { zoom } : { toleranceM: toleranceM ?? 0 },
        ...(bbox ? { bbox } : {}),
        json: true,
      };

      let result;
      try {
        result = queryTrack(tracks, gaps, query);
      } catch (err) {
        if (!(err instanceof TrackNotReady)) throw err;
        const reply: ErrorReply = { error: { code: "not_ready", message: err.message } };
        res.status(503).set("Retry-After", "5").json(reply);
        return;
      }
      const reply: TrackReply = {
        deviceId,
        from,
        to,
        toleranceM: result.toleranceM,
        segments: result.segments,
      };
      const beforeJson = performance.now();
      const body =
        result.segmentsJson === undefined
          ? JSON.stringify(reply)
          : // The same object with the segments SQLite already wrote as JSON (the last key).
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
