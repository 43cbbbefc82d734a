import express, { type RequestHandler } from "express";
import type { Clock } from "../../clock.ts";
import { badRequest } from "../../services/errors.ts";
import { basicCredentials } from "../device-http/fields.ts";
import {
  allowMethods,
  authenticateApp,
  reportAndReply,
  type GatewayDeps,
} from "../device-http/reply.ts";
import { collectParams, OSMAND_FIELDS, osmAndFromParams } from "./params.ts";
import { TRACCAR_JSON_FIELDS, traccarFromJson } from "./traccar-json.ts";

/**
 * The OsmAnd protocol over HTTP (Traccar Client, OsmAnd, GPSLogger and many trackers), GET or POST:
 * parameters in the query string or a form body, or the JSON body of newer Traccar Clients.
 * Replies as Traccar does: 200 with an empty body when stored, so the apps move on.
 *
 * These apps send no secret by default: the device must be allowed to report by identifier alone,
 * or pass its token as `token=` (or `password=`) or as the HTTP Basic password.
 */
export function osmandHandlers(deps: GatewayDeps & { clock: Clock }): RequestHandler[] {
  const { positions, devices, clock } = deps;
  // Any content type is read as text: apps are not careful with it, and the body is small.
  const readBody = express.text({ type: () => true, limit: "1mb" });

  const handle: RequestHandler = async (req, res) => {
    const search = req.url.includes("?") ? req.url.slice(req.url.indexOf("?") + 1) : "";
    const query = new URLSearchParams(search);
    const basic = basicCredentials(req.headers.authorization);
    const body = typeof req.body === "string" ? req.body : "";

    if (req.is("application/json")) {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw badRequest("body", "must be valid JSON");
      }
      const { deviceId, positions: fixes } = traccarFromJson(json);
      const token = query.get("token") || basic?.password || undefined;
      const id = await authenticateApp(res, devices, { deviceId, token }, "device_id");
      await reportAndReply(res, positions, "osmand", id, fixes, TRACCAR_JSON_FIELDS, () => {
        res.status(200).end();
      });
      return;
    }

    const params = collectParams([query, new URLSearchParams(body)]);
    const report = osmAndFromParams(params, clock.now(), basic?.user);
    const token = report.token ?? (basic?.password || undefined);
    const credentials = { deviceId: report.deviceId, token };
    const id = await authenticateApp(res, devices, credentials, report.idField);
    await reportAndReply(res, positions, "osmand", id, [report.position], OSMAND_FIELDS, () => {
      res.status(200).end();
    });
  };
  return [allowMethods("GET", "POST"), readBody, handle];
}
