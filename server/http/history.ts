import type { Readable } from "node:stream";
import { Router, type Request, type Response } from "express";
import { readGeoJson } from "../../formats/geojson.ts";
import { readGpx } from "../../formats/gpx.ts";
import { ImportError } from "../../formats/read-point.ts";
import {
  deviceIdSchema,
  type ExportFormat,
  type ImportFormat,
  type StopsReply,
  type SummaryReply,
  type TripsReply,
} from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { EXPORT_FORMATS } from "../exchange/export/index.ts";
import { importPoints } from "../exchange/import/importer.ts";
import { TrackAnalysis, thresholdsFrom, type TrackAnalysisResult } from "../history/analysis.ts";
import type { GroupCommitter } from "../ingest/group-commit.ts";
import type { DeviceRegistry } from "../store/device-registry.ts";
import type { PositionStore } from "../store/position-store.ts";
import { canSee } from "../store/user-store.ts";
import { NotFound } from "./api.ts";
import { HttpError } from "./errors.ts";
import { BadRequest, choiceParam, timeParam } from "./params.ts";
import { currentUser, requireAdmin } from "./session.ts";

export interface HistoryDeps {
  store: PositionStore;
  registry: DeviceRegistry;
  committer: GroupCommitter;
  config: Readonly<Config>;
  clock: Clock;
}

const EXPORT_CHOICES = Object.keys(EXPORT_FORMATS) as ExportFormat[];
const IMPORT_READERS = { gpx: readGpx, geojson: readGeoJson } as const;
const IMPORT_CHOICES = Object.keys(IMPORT_READERS) as ImportFormat[];

/**
 * Trips, stops, summary, export and import of one device's history, under /api behind
 * requireUser. Visibility as for /positions: unknown and not granted both answer 404.
 */
export function historyRouter(deps: HistoryDeps): Router {
  const { store, registry, committer, config, clock } = deps;
  const thresholds = thresholdsFrom(config);
  const router = Router();

  function visibleDevice(req: Request, res: Response): string {
    const deviceId = req.params.id as string;
    const known =
      deviceIdSchema.safeParse(deviceId).success &&
      (store.hasDevice(deviceId) || registry.exists(deviceId));
    if (!known || !canSee(currentUser(res), deviceId)) {
      throw new NotFound(`no device "${deviceId}"`);
    }
    return deviceId;
  }

  function range(req: Request): { from: number; to: number } {
    const from = timeParam(req.query, "from", 0);
    const to = timeParam(req.query, "to", Number.MAX_SAFE_INTEGER);
    if (from > to) throw new BadRequest("from", "must not be after to");
    return { from, to };
  }

  /** One pass over the range, page by page, letting ingest run between pages. */
  async function analyze(deviceId: string, r: { from: number; to: number }) {
    const analysis = new TrackAnalysis(thresholds);
    for (const page of store.scan(deviceId, r)) {
      for (const row of page) analysis.add(row);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return analysis.finish();
  }

  const analyzed = (
    reply: (deviceId: string, r: { from: number; to: number }, a: TrackAnalysisResult) => unknown,
  ) =>
    async function handler(req: Request, res: Response) {
      const deviceId = visibleDevice(req, res);
      const r = range(req);
      res.json(reply(deviceId, r, await analyze(deviceId, r)));
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

  router.get("/devices/:id/export", async (req, res) => {
    const deviceId = visibleDevice(req, res);
    const r = range(req);
    const format = choiceParam(req.query, "format", EXPORT_CHOICES, "gpx");
    const info = EXPORT_FORMATS[format];
    const writer = info.create({ deviceId, ...r, gapMs: thresholds.gapMs });
    const name = `${deviceId}_${stamp(r.from)}_${stamp(r.to)}.${info.extension}`;
    res.setHeader("Content-Type", info.contentType);
    res.setHeader("Content-Disposition", `attachment; filename="${name}"`);
    // Streamed: the size is unknown until the last row, and the first bytes leave at once.
    if (!(await send(res, writer.head()))) return;
    for (const page of store.scan(deviceId, r)) {
      if (!(await send(res, writer.page(page)))) return;
    }
    if (await send(res, writer.tail())) res.end();
  });

  router.post("/devices/:id/import", requireAdmin, async (req, res) => {
    const deviceId = visibleDevice(req, res);
    const format = choiceParam(req.query, "format", IMPORT_CHOICES, "gpx");
    const maxBytes = Math.floor(config.importMaxMb * 1024 * 1024);
    const declared = Number(req.headers["content-length"]);
    if (declared > maxBytes) throw tooLarge(config.importMaxMb);
    const reply = await importPoints(IMPORT_READERS[format](capped(req, maxBytes, config)), {
      deviceId,
      now: clock.now(),
      maxFutureMs: config.maxFutureMs,
      maxAccuracyM: config.maxAccuracyM,
      maxImpliedSpeed: config.maxImpliedSpeed,
      sink: (rows) => committer.submit(rows),
    }).catch((err: unknown) => {
      if (err instanceof ImportError) throw new HttpError(400, "invalid_file", err.message);
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
async function* capped(req: Readable, maxBytes: number, config: Readonly<Config>) {
  let received = 0;
  // Not destroyed when reading stops early (a malformed file): the error reply must still get out,
  // and Node discards the rest of the body after it.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw tooLarge(config.importMaxMb);
    yield chunk;
  }
}

function tooLarge(maxMb: number): HttpError {
  return new HttpError(413, "too_large", `the file is larger than the ${maxMb} MB import limit`);
}

function stamp(ts: number): string {
  if (ts <= 0 || ts >= Number.MAX_SAFE_INTEGER) return ts <= 0 ? "start" : "end";
  return new Date(ts).toISOString().replace(/[:.]/g, "-");
}
