import type { Readable } from "node:stream";
import { Router, type Request, type Response } from "express";
import { readGeoJson } from "../../../formats/geojson.ts";
import { readGpx } from "../../../formats/gpx.ts";
import { EXPORT_FORMATS } from "../../../formats/export/index.ts";
import { ImportError } from "../../../formats/read-point.ts";
import type {
  ExportFormat,
  ImportFormat,
  StopsReply,
  SummaryReply,
  TripsReply,
} from "../../../protocol/index.ts";
import type { TrackAnalysisResult } from "../../history/analysis.ts";
import type { AccessService } from "../../services/access.ts";
import { LocusError } from "../../services/errors.ts";
import type { HistoryService } from "../../services/history.ts";
import type { PositionService } from "../../services/positions.ts";
import { choiceParam, rangeParams } from "./params.ts";
import { currentUser, requireAdmin } from "./session.ts";

const EXPORT_CHOICES = Object.keys(EXPORT_FORMATS) as ExportFormat[];
const IMPORT_READERS = { gpx: readGpx, geojson: readGeoJson } as const;
const IMPORT_CHOICES = Object.keys(IMPORT_READERS) as ImportFormat[];

/**
 * Trips, stops, summary, export and import of one device's history, under /api behind
 * requireUser. Visibility as for /positions: unknown and not granted both answer 404.
 */
export function historyRouter(deps: {
  access: AccessService;
  history: HistoryService;
  positions: PositionService;
  importMaxMb: number;
}): Router {
  const { access, history, positions, importMaxMb } = deps;
  const router = Router();

  const analyzed = (
    reply: (deviceId: string, r: { from: number; to: number }, a: TrackAnalysisResult) => unknown,
  ) =>
    async function handler(req: Request<{ id: string }>, res: Response) {
      const deviceId = req.params.id;
      const range = rangeParams(req.query);
      res.json(reply(deviceId, range, await history.analyze(currentUser(res), deviceId, range)));
    };

  router.get(
    "/devices/:id/trips",
    analyzed((deviceId, r, a): TripsReply => ({ deviceId, ...r, trips: a.trips })),
  );
  router.get(
    "/devices/:id/stops",
    analyzed((deviceId, r, a): StopsReply => ({ deviceId, ...r, stops: a.stops })),
  );
  router.get(
    "/devices/:id/summary",
    analyzed((deviceId, r, a): SummaryReply => ({ deviceId, ...r, ...a.totals })),
  );

  router.get("/devices/:id/export", async (req: Request<{ id: string }>, res) => {
    const deviceId = req.params.id;
    const range = rangeParams(req.query);
    const format = choiceParam(req.query, "format", EXPORT_CHOICES, "gpx");
    const pages = await history.scan(currentUser(res), deviceId, range);
    const info = EXPORT_FORMATS[format];
    const writer = info.create({ deviceId, ...range, gapMs: history.thresholds.gapMs });
    const name = `${deviceId}_${stamp(range.from)}_${stamp(range.to)}.${info.extension}`;
    res.setHeader("Content-Type", info.contentType);
    res.setHeader("Content-Disposition", `attachment; filename="${name}"`);
    // Streamed: the size is unknown until the last row, and the first bytes leave at once.
    if (!(await send(res, writer.head()))) return;
    for await (const page of pages) {
      if (!(await send(res, writer.page(page)))) return;
    }
    if (await send(res, writer.tail())) res.end();
  });

  router.post("/devices/:id/import", requireAdmin, async (req: Request<{ id: string }>, res) => {
    const deviceId = await access.visibleDevice(currentUser(res), req.params.id);
    const format = choiceParam(req.query, "format", IMPORT_CHOICES, "gpx");
    const maxBytes = Math.floor(importMaxMb * 1024 * 1024);
    const declared = Number(req.headers["content-length"]);
    if (declared > maxBytes) throw tooLarge(importMaxMb);
    const reply = await positions
      .import(deviceId, IMPORT_READERS[format](capped(req, maxBytes, importMaxMb)), {
        via: "rest",
      })
      .catch((err: unknown) => {
        if (err instanceof ImportError) throw new LocusError("invalid_file", err.message);
        throw err;
      });
    res.json(reply);
  });

  return router;
}

/** Write a chunk, waiting for the socket to drain when it asks; false once the client has gone. */
async function send(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (chunk.length > 0 && !res.write(chunk)) await drained(res);
  // Each page is a synchronous query: let ingest and other requests in between pages.
  else await new Promise((resolve) => setImmediate(resolve));
  return !res.destroyed;
}

/** Resolves on 'drain' or 'close', removing both listeners (an export waits thousands of times). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** The request body as it arrives, refused once it grows past the cap. */
async function* capped(req: Readable, maxBytes: number, maxMb: number) {
  let received = 0;
  // Not destroyed when reading stops early (a malformed file): the error reply must still get out,
  // and Node discards the rest of the body after it.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw tooLarge(maxMb);
    yield chunk;
  }
}

function tooLarge(maxMb: number): LocusError {
  return new LocusError("too_large", `the file is larger than the ${maxMb} MB import limit`);
}

function stamp(ts: number): string {
  if (ts <= 0 || ts >= Number.MAX_SAFE_INTEGER) return ts <= 0 ? "start" : "end";
  return new Date(ts).toISOString().replace(/[:.]/g, "-");
}
