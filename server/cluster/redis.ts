import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import type { ServerOptions } from "socket.io";
import { ConfigError } from "../config.ts";
import type { Logger } from "../logger.ts";

/** How long the first connection may take before the start is given up. */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * A Redis that stops answering without closing the connection (its host gone, a partition) is
 * only noticed by asking: every so often a PING, and a link that leaves it unanswered is dropped
 * and reconnected, which pauses live delivery like any outage (and stops the batches queueing).
 */
const PROBE_EVERY_MS = 2_000;
const PROBE_TIMEOUT_MS = 3_000;

/**
 * The adapter's stream keeps every broadcast (each node's live batches, the bus's messages) up to
 * 10,000 entries, whatever their age: at 5,000 devices a tick batch is ~80 KB, so Redis would
 * grow to ~800 MB for batches no one can ask for once the recovery window is over. Every node
 * trims by age (stream ids start with Redis's own clock, so node clocks do not matter).
 */
const STREAM = "socket.io";
const TRIM_EVERY_MS = 10_000;

/**
 * The link to the cluster's Redis: the client socket.io's Redis Streams adapter publishes with
 * (the adapter duplicates it for reading the stream and for PUB/SUB), and whether Redis is
 * reachable right now.
 */
export interface RedisLink {
  /** For `new Server({ adapter })`: every namespace goes through the Redis stream. */
  readonly adapter: NonNullable<ServerOptions["adapter"]>;
  /** Redis answers now. While it does not, nothing is published and dashboards wait. */
  readonly up: boolean;
  /** For /api/health and /metrics: not critical, ingest never waits on Redis. */
  health(): { ok: boolean; reason?: string };
  /** Called when Redis goes away (false) and when it is back (true); not for the first connect. */
  onStatus(listener: (up: boolean) => void): void;
  close(): Promise<void>;
}

/** `redis://user:secret@host` → `redis://host`: the password never reaches a log or an error. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * Connect to the cluster's Redis, or fail the start with a message naming the setting: a node
 * that silently ran alone would show each dashboard only part of the fleet.
 *
 * Once connected the client retries forever and keeps commands issued meanwhile
 * (`maxRetriesPerRequest: null`): the adapter fires some of its commands without catching their
 * failure, and a rejected one would end the process. The bus publishes nothing while Redis is
 * away, and the live hub holds socket.io batches back, so that queue stays small.
 */
export async function connectRedis(
  url: string,
  logger: Logger,
  /** How long the stream must keep what it carried: the dashboards' recovery window. */
  keepMs: number,
): Promise<RedisLink> {
  const shown = redactUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    retryStrategy: () => null,
  });
  let lastError = null as Error | null;
  client.on("error", (err: Error) => {
    lastError = err;
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    const reason = (lastError?.message ?? (err as Error).message).replace(/\.$/, "");
    throw new ConfigError(
      `--redis-url (LOCUS_REDIS_URL): cannot reach Redis at ${shown}: ${reason}. ` +
        "Start Redis, fix the URL, or leave the setting empty to run one node alone.",
      { cause: err },
    );
  }
  // From now on a lost connection is retried, quickly at first, then every 2 s.
  client.options.retryStrategy = (times) => Math.min(times * 100, 2000);

  const listeners: ((up: boolean) => void)[] = [];
  let up = true;
  let closing = false;
  const setUp = (now: boolean) => {
    if (now === up || closing) return;
    up = now;
    if (now) logger.warn({ redis: shown }, "cluster: Redis is back; resynchronising live state");
    else
      logger.warn(
        { redis: shown, reason: lastError?.message },
        "cluster: Redis unreachable; live delivery across nodes paused",
      );
    for (const listener of listeners) listener(now);
  };
  client.on("close", () => setUp(false));
  client.on("ready", () => setUp(true));

  let probing = false;
  const probe = setInterval(() => {
    if (probing || client.status !== "ready") return;
    probing = true;
    const silent = setTimeout(() => {
      lastError = new Error(`no answer to PING within ${PROBE_TIMEOUT_MS} ms`);
      client.disconnect(true);
    }, PROBE_TIMEOUT_MS);
    // A PING caught in a reconnect is sent again after it: the next probe waits for its answer.
    void client
      .ping()
      .catch(() => {})
      .finally(() => {
        clearTimeout(silent);
        probing = false;
      });
  }, PROBE_EVERY_MS);
  probe.unref();

  const trim = setInterval(
    () => {
      if (client.status !== "ready") return;
      void client
        .time()
        .then(([seconds]) =>
          client.xtrim(STREAM, "MINID", "~", `${Number(seconds) * 1000 - keepMs}-0`),
        )
        .catch((err: unknown) => logger.debug({ err }, "cluster: trimming the stream failed"));
    },
    Math.min(TRIM_EVERY_MS, keepMs),
  );
  trim.unref();

  // Every payload is plain JSON: the adapter need not search each batch for binary parts.
  const adapter = createAdapter(client, { streamName: STREAM, onlyPlaintext: true });
  logger.info({ redis: shown }, "cluster: joined through Redis");
  const link: RedisLink = {
    adapter: adapter as NonNullable<ServerOptions["adapter"]>,
    get up() {
      return up && client.status === "ready";
    },
    health: () =>
      link.up
        ? { ok: true }
        : { ok: false, reason: "unreachable: live delivery across nodes paused" },
    onStatus: (listener) => void listeners.push(listener),
    async close() {
      closing = true;
      clearInterval(probe);
      clearInterval(trim);
      listeners.length = 0;
      await client.quit().catch(() => client.disconnect());
    },
  };
  return link;
}
