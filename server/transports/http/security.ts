import type { IncomingMessage } from "node:http";
import helmet from "helmet";
import type { RequestHandler } from "express";

/**
 * Hosts the tile template loads images from: `https://{s}.tile.example.org/{z}/{x}/{y}.png` needs
 * `https://*.tile.example.org`. A template that is not a URL contributes nothing.
 */
export function tileSources(tileUrl: string): string[] {
  const withHost = tileUrl.replace(/\{s\}/g, "a");
  try {
    const { protocol, host } = new URL(withHost.replace(/\{[a-z]+\}/gi, "0"));
    const origin = `${protocol}//${host}`;
    return tileUrl.includes("{s}") ? [origin.replace(/\/\/a\./, "//*.")] : [origin];
  } catch {
    return [];
  }
}

/**
 * Security headers for every HTTP reply. The CSP allows only our own scripts and styles (the
 * dashboard has no inline script), images from us, data: URLs (Leaflet) and the tile host, and
 * socket.io to the same origin.
 */
export function securityHeaders(tileUrl: string): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:", ...tileSources(tileUrl)],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    // Tiles come from another origin and do not send CORP headers.
    crossOriginEmbedderPolicy: false,
  });
}

/**
 * Browsers send `Origin`; devices and scripts usually do not. A cross-origin page may talk to us
 * only from a configured origin — for HTTP (CORS) and for socket.io alike, since WebSockets are
 * not covered by CORS and would otherwise let any web page read the live feed.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes("*") || allowed.includes(origin)) return true;
  const host = req.headers.host;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function corsHeaders(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && (allowed.includes("*") || allowed.includes(origin))) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
      if (req.method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "Content-Type, Authorization");
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
