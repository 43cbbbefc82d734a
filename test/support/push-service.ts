import { createECDH, createPublicKey, randomBytes, verify, type ECDH } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { PushPayload } from "../../protocol/push.ts";

/** http_ece (web-push's own dependency) has no types: the one call the tests make. */
const ece = createRequire(import.meta.url)("http_ece") as {
  decrypt(
    body: Buffer,
    params: { version: "aes128gcm"; privateKey: ECDH; authSecret: string },
  ): Buffer;
};

/**
 * What a browser keeps of its push subscription: the ECDH key pair and auth secret it made, and
 * the endpoint the push service gave it. `toJSON()` is what PushSubscription.toJSON() gives the
 * page to send to its server.
 */
export class TestBrowser {
  readonly ecdh = createECDH("prime256v1");
  readonly auth = randomBytes(16).toString("base64url");
  readonly p256dh: string;

  constructor(readonly endpoint: string) {
    this.p256dh = this.ecdh.generateKeys().toString("base64url");
  }

  toJSON() {
    return {
      endpoint: this.endpoint,
      expirationTime: null,
      keys: { p256dh: this.p256dh, auth: this.auth },
    };
  }

  /** The plain payload of a message to this browser (RFC 8291): throws if it was not for it. */
  decrypt(body: Buffer): PushPayload {
    const plain = ece.decrypt(body, {
      version: "aes128gcm",
      privateKey: this.ecdh,
      authSecret: this.auth,
    });
    return JSON.parse(plain.toString("utf8")) as PushPayload;
  }
}

export interface PushMessage {
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** What the push service answered. */
  status: number;
}

/**
 * A push service on a loopback port, standing in for the browser vendors' (FCM, Mozilla's…): it
 * takes every message POSTed to `/push/<browser>` and answers with `respond` (201 by default, as
 * real ones do; 410 says the subscription is gone).
 */
export class TestPushService {
  readonly messages: PushMessage[] = [];
  respond: (message: PushMessage) => number = () => 201;
  private server: Server | null = null;
  port = 0;

  async listen(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const message = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
        const status = this.respond({ ...message, status: 0 });
        this.messages.push({ ...message, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** A browser subscribed at this service. */
  browser(): TestBrowser {
    return new TestBrowser(`http://127.0.0.1:${this.port}/push/${randomBytes(8).toString("hex")}`);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * The claims of a VAPID `Authorization: vapid t=<JWT>, k=<public key>` header, after checking its
 * ES256 signature with `k`; throws if the header is malformed or the signature wrong.
 */
export function verifiedVapid(header: string | undefined): {
  key: string;
  claims: { aud: string; sub: string; exp: number };
} {
  const m = /^vapid t=([\w-]+)\.([\w-]+)\.([\w-]+), k=([\w-]+)$/.exec(header ?? "");
  if (!m) throw new Error(`not a VAPID authorization: ${header}`);
  const [, head, claims, signature, key] = m as unknown as [string, string, string, string, string];
  const point = Buffer.from(key, "base64url");
  const publicKey = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: point.subarray(1, 33).toString("base64url"),
      y: point.subarray(33, 65).toString("base64url"),
    },
    format: "jwk",
  });
  const ok = verify(
    "sha256",
    Buffer.from(`${head}.${claims}`),
    { key: publicKey, dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!ok) throw new Error("VAPID signature does not verify");
  return { key, claims: JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) };
}
