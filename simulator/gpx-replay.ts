import { createReadStream } from "node:fs";
import { readGpx } from "../formats/gpx.ts";
import type { Position } from "../protocol/index.ts";
import {
  createDeviceClient,
  type DeviceClientError,
  type DeviceClientOptions,
  type DeviceClientStats,
} from "./device-client.ts";

/**
 * Replays a recorded GPX track as a live device: each track point is sent when its turn comes,
 * stamped with the time it is sent, so the server and dashboards see the trip happen now.
 * `speedup` N plays N× faster (timestamps compressed to match). The file is read as it plays,
 * so a long recording costs no memory up front.
 */

export interface GpxReplayOptions {
  url: string;
  deviceId: string;
  token?: string;
  file: string;
  /** 1 = real time. */
  speedup?: number;
  /** Told about each fix as it is sent (the replay's log), and about unusable points. */
  onFix?: (fix: Position) => void;
  onWarning?: (message: string) => void;
  client?: Partial<Omit<DeviceClientOptions, "url" | "deviceId" | "token">>;
  flushTimeoutMs?: number;
}

export interface GpxReplaySummary {
  /** Points sent, and the recording's length and the time the replay took (ms). */
  sent: number;
  skipped: number;
  recordedMs: number;
  playedMs: number;
  flushed: boolean;
  stats: DeviceClientStats;
}

export interface GpxReplay {
  /** Resolves when the whole file was played and acknowledged (or stop() was called). */
  readonly done: Promise<GpxReplaySummary>;
  stop(): Promise<GpxReplaySummary>;
}

export function startGpxReplay(options: GpxReplayOptions): GpxReplay {
  const { url, deviceId, token, file, speedup = 1, onFix, onWarning } = options;
  if (!(speedup > 0)) throw new RangeError("speedup must be positive");
  const client = createDeviceClient({ ...options.client, url, deviceId, token });
  client.on("error", (err: DeviceClientError) => onWarning?.(`${err.code}: ${err.message}`));
  let stopped = false;
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | undefined;
  let sent = 0;
  let skipped = 0;
  let firstTs: number | null = null;
  let lastTs = 0;
  const startedAt = Date.now();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  async function play(): Promise<GpxReplaySummary> {
    let lastSentTs = 0;
    try {
      for await (const points of readGpx(createReadStream(file))) {
        for (const { at, fields, error } of points) {
          if (stopped) break;
          if (error !== undefined) {
            skipped++;
            onWarning?.(`${file} ${at}: ${error}; skipped`);
            continue;
          }
          const ts = fields.ts as number;
          firstTs ??= ts;
          lastTs = ts;
          const due = startedAt + (ts - firstTs) / speedup;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
          if (stopped) break;
          // Stamped with when it is due; never the same millisecond twice, which would be a duplicate.
          const stamped = Math.max(Math.round(due), lastSentTs + 1);
          lastSentTs = stamped;
          const fix = { ...fields, ts: stamped } as Position;
          client.push(fix);
          onFix?.(fix);
          sent++;
        }
        if (stopped) break;
      }
    } finally {
      // Whatever ended the replay, what was sent gets its chance to be acknowledged.
      const flushed = await client.flush(options.flushTimeoutMs ?? 5_000);
      client.close();
      summary = {
        sent,
        skipped,
        recordedMs: firstTs === null ? 0 : lastTs - firstTs,
        playedMs: Date.now() - startedAt,
        flushed,
        stats: client.stats,
      };
    }
    return summary;
  }

  let summary: GpxReplaySummary;
  const done = play();
  return {
    done,
    stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      return done;
    },
  };
}
