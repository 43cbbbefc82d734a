import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import type { ErrorBody, ErrorReply } from "../../../protocol/index.ts";
import type { Logger } from "../../logger.ts";
import { LocusError } from "../../services/errors.ts";
import { errorBody, HTTP_STATUS, type RenderOptions } from "../errors.ts";

/** Answer with an error body and its status, with the headers its code calls for. */
export function sendError(res: Response, error: ErrorBody): void {
  const status = HTTP_STATUS[error.code];
  if (error.code === "rate_limited") {
    res.setHeader(
      "Retry-After",
      String(Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000))),
    );
  } else if (status === 503) {
    res.setHeader("Retry-After", "5");
  }
  const reply: ErrorReply = { error };
  res.status(status).json(reply);
}

export const apiNotFound: RequestHandler = (req) => {
  throw new LocusError("not_found", `no route ${req.method} ${req.path}`);
};

/**
 * Known errors become their status and body; anything else is logged and answered generically.
 * `render` names fields as this router's clients do.
 */
export function errorHandler(logger: Logger, render: RenderOptions = {}): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      // Failed mid-stream (an export): the status is gone, so the truncated body must not look whole.
      logger.error({ err, path: req.path }, "request failed after its reply began");
      res.destroy();
      return;
    }
    if (isClientHttpError(err)) {
      // Errors raised by express itself (malformed URL encoding, body too large, …).
      const message = err.expose ? err.message : "bad request";
      return sendError(res, { code: err.status === 413 ? "too_large" : "bad_request", message });
    }
    sendError(res, errorBody(err, logger, { path: req.path }, render));
  };
}

function isClientHttpError(
  err: unknown,
): err is { status: number; expose?: boolean; message: string } {
  if (err instanceof LocusError || typeof err !== "object" || err === null) return false;
  const status = (err as { status?: unknown }).status;
  return typeof status === "number" && status < 500;
}
