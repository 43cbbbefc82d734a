import type { ErrorRequestHandler, RequestHandler } from "express";
import type { ErrorReply } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import { NotFound } from "./api.ts";
import { BadRequest } from "./params.ts";

/** A request that cannot be served as sent, with its own status (413: too large). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const apiNotFound: RequestHandler = (req, res) => {
  const reply: ErrorReply = {
    error: { code: "not_found", message: `no route ${req.method} ${req.path}` },
  };
  res.status(404).json(reply);
};

/** Known errors become their status and message; anything else is logged and answered generically. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      // Failed mid-stream (an export): the status is gone, so the truncated body must not look whole.
      logger.error({ err, path: req.path }, "request failed after its reply began");
      res.destroy();
      return;
    }
    let status = 500;
    let reply: ErrorReply = { error: { code: "internal", message: "internal error" } };
    if (err instanceof BadRequest) {
      status = 400;
      reply = { error: { code: "bad_request", message: err.message } };
    } else if (err instanceof HttpError) {
      status = err.status;
      reply = { error: { code: err.code, message: err.message } };
    } else if (err instanceof NotFound) {
      status = 404;
      reply = { error: { code: "not_found", message: err.message } };
    } else if (isHttpError(err) && err.status < 500) {
      // Errors raised by express itself (malformed URL encoding, body too large, …).
      status = err.status;
      reply = { error: { code: "bad_request", message: err.expose ? err.message : "bad request" } };
    } else {
      logger.error({ err, path: req.path }, "request failed");
    }
    res.status(status).json(reply);
  };
}

function isHttpError(err: unknown): err is { status: number; expose?: boolean; message: string } {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { status?: unknown }).status === "number"
  );
}
