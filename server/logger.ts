import pino from "pino";

export type Logger = pino.Logger;

/** JSON lines on stdout: what log shippers expect, and cheap enough for the ingest path. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { app: "locus" } });
}

export const silentLogger: Logger = pino({ level: "silent" });
