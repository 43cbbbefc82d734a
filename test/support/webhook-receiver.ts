import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebhookBody } from "../../protocol/notifications.ts";

/** One request as the receiver got it. */
export interface Received {
  at: number;
  headers: IncomingMessage["headers"];
  raw: string;
  body: WebhookBody;
  /** What the receiver answered. */
  status: number;
}

/**
 * A real HTTP receiver of webhooks on a loopback port, as a user would run one: it records every
 * request and answers with what `respond` says (200 by default; a status, or "stall" to hold the
 * request open until `release()`). `close()` and `listen()` take it down and up on the same port.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  respond: (req: Received) => number | "stall" = () => 200;
  private server: Server | null = null;
  private stalled: ServerResponse[] = [];
  port = 0;

  async listen(port = this.port): Promise<this> {
    const server = createServer((req, res) => {
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (raw += chunk));
      req.on("end", () => {
        const entry: Received = {
          at: Date.now(),
          headers: req.headers,
          raw,
          body: JSON.parse(raw) as WebhookBody,
          status: 0,
        };
        const answer = this.respond(entry);
        if (answer === "stall") {
          this.stalled.push(res);
          entry.status = -1;
        } else {
          entry.status = answer;
          res.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "no");
        }
        this.received.push(entry);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Answer every stalled request with `status`. */
  release(status = 200): void {
    for (const res of this.stalled.splice(0)) {
      if (!res.destroyed) res.writeHead(status).end();
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const res of this.stalled.splice(0)) res.destroy();
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Requests answered 2xx, in arrival order. */
  accepted(): Received[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300);
  }
}

/** Whether the request carries a valid signature of its raw body with `secret`. */
export function validSignature(received: Received, secret: string): boolean {
  const header = received.headers["x-locus-signature"];
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(received.raw).digest();
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
