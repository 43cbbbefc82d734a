import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * The wire of webhooks: where a URL may point, and one POST to it. Addresses are checked where
 * they are used: the host is resolved, every address it resolves to is checked, and the request
 * connects to the checked address (with the URL's name kept for the Host header and TLS), so a
 * name that resolves to a public address when checked and to 127.0.0.1 a moment later (DNS
 * rebinding) cannot reach a private service. Redirects are never followed.
 */

export interface WebhookRequest {
  url: string;
  /** The exact bytes to send (already signed, or encrypted for a push service). */
  body: string | Buffer;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Ends the request early (a shutdown). */
  signal?: AbortSignal;
}

export interface WebhookResponse {
  /** The HTTP status, or null when none came (refused, timed out, blocked). */
  status: number | null;
  /** Why the attempt failed, or null for a 2xx. */
  error: string | null;
  latencyMs: number;
}

export interface WebhookSender {
  /** Why requests to this URL would be refused (where its host points), or null. */
  refusal(url: string): Promise<string | null>;
  send(request: WebhookRequest): Promise<WebhookResponse>;
}

/**
 * Loopback, private, link-local, shared (CGNAT), multicast, reserved and documentation ranges.
 * IPv4 addresses mapped into IPv6 (`::ffff:127.0.0.1`) match the IPv4 rules (BlockList does so).
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96], // NAT64: an IPv4 address in disguise
  ["100::", 64],
  ["2001:db8::", 32],
  ["2002::", 16], // 6to4: likewise
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse
  return PRIVATE.check(address, family === 6 ? "ipv6" : "ipv4");
}

interface Target {
  address: string;
  family: 4 | 6;
}

/** The URL's host without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

const problem = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class HttpWebhookSender implements WebhookSender {
  constructor(
    private readonly options: {
      /** `--webhook-allow-private`: any address may be called. */
      allowPrivate: boolean;
      userAgent: string;
      /** Resolution, replaceable in tests. */
      resolve?: (host: string) => Promise<Target[]>;
    },
  ) {}

  async refusal(raw: string): Promise<string | null> {
    try {
      await this.target(new URL(raw));
      return null;
    } catch (err) {
      return problem(err);
    }
  }

  async send(request: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = new URL(request.url);
    let target: Target;
    try {
      target = await this.target(url);
    } catch (err) {
      return { status: null, error: problem(err), latencyMs: elapsed() };
    }
    // Connect to the address just checked, whatever the name resolves to by now.
    const pinned: LookupFunction = (_host, options, callback) => {
      if (options.all) callback(null, [target]);
      else callback(null, target.address, target.family);
    };
    const client = url.protocol === "https:" ? https : http;
    return new Promise<WebhookResponse>((resolve) => {
      let settled = false;
      const finish = (status: number | null, error: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", abort);
        req.destroy();
        resolve({ status, error, latencyMs: elapsed() });
      };
      const req = client.request(
        url,
        {
          method: "POST",
          headers: {
            ...request.headers,
            "user-agent": this.options.userAgent,
            "content-length": String(Buffer.byteLength(request.body)),
          },
          lookup: pinned,
          // A connection of its own: a kept-alive socket may lead to an address checked earlier.
          agent: false,
        },
        (res) => {
          const status = res.statusCode ?? null;
          if (status !== null && status >= 200 && status < 300) {
            res.resume();
            finish(status, null);
            return;
          }
          // A little of the answer says why (a receiver's own error message).
          let text = "";
          const done = () => {
            const said = text.replace(/\s+/g, " ").trim().slice(0, 200);
            const why =
              status !== null && status >= 300 && status < 400
                ? `redirect to ${res.headers.location ?? "(no location)"} not followed`
                : `HTTP ${status}`;
            finish(status, said ? `${why}: ${said}` : why);
          };
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
            if (text.length >= 200) done();
          });
          res.on("end", done);
          res.on("error", done);
        },
      );
      const timer = setTimeout(
        () => finish(null, `no answer within ${request.timeoutMs / 1000} s`),
        request.timeoutMs,
      );
      req.on("error", (err) => finish(null, problem(err)));
      const abort = () => finish(null, "aborted");
      request.signal?.addEventListener("abort", abort, { once: true });
      if (request.signal?.aborted) abort();
      req.end(request.body);
    });
  }

  /** The address to connect to: every address of the host checked, the first one taken. */
  private async target(url: URL): Promise<Target> {
    const host = hostOf(url);
    const literal = isIP(host);
    let targets: Target[];
    if (literal !== 0) targets = [{ address: host, family: literal as 4 | 6 }];
    else {
      try {
        targets = await (this.options.resolve ?? resolveAll)(host);
      } catch (err) {
        throw new Error(`host ${host} does not resolve (${problem(err)})`, { cause: err });
      }
      if (targets.length === 0) throw new Error(`host ${host} does not resolve`);
    }
    if (!this.options.allowPrivate) {
      const refused = targets.find((t) => isPrivateAddress(t.address));
      if (refused) {
        throw new Error(
          `${host} is a loopback, private or link-local address (${refused.address}); ` +
            "an admin may allow these with --webhook-allow-private",
        );
      }
    }
    return targets[0]!;
  }
}

async function resolveAll(host: string): Promise<Target[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}
