import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { tileSources } from "../../server/transports/http/security.ts";
import { connectDevice, useTestBed } from "../support/locus.ts";

const bed = useTestBed();

function liveFrom(url: string, origin: string): Promise<string> {
  const socket = io(`${url}/live`, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    extraHeaders: { origin, cookie: bed.server.adminCookie },
  });
  bed.track(socket);
  return new Promise((resolve) => {
    socket.once("connect", () => resolve("connected"));
    socket.once("connect_error", (err) => resolve(`refused: ${err.message}`));
  });
}

describe("HTTP security", () => {
  it("sends a CSP that allows only our scripts, the tile host and same-origin sockets", async () => {
    const server = await bed.start();
    for (const path of ["/", "/api/health"]) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("img-src 'self' data: https://tile.openstreetmap.org");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });

  it("derives tile hosts from templates with subdomains", () => {
    expect(tileSources("https://{s}.tile.example.org/{z}/{x}/{y}.png")).toEqual([
      "https://*.tile.example.org",
    ]);
    expect(tileSources("not a url")).toEqual([]);
  });

  it("allows cross-origin browser calls only from configured origins", async () => {
    const server = await bed.start({ corsOrigins: "https://ops.example.com" });
    const from = (origin: string) =>
      fetch(`${server.url}/api/health`, { headers: { origin } }).then((r) =>
        r.headers.get("access-control-allow-origin"),
      );
    expect(await from("https://ops.example.com")).toBe("https://ops.example.com");
    expect(await from("https://evil.example")).toBeNull();
    expect(await liveFrom(server.url, "https://evil.example")).toMatch(/^refused/);
    expect(await liveFrom(server.url, "https://ops.example.com")).toBe("connected");
  });

  it("answers malformed requests without stack traces or file paths", async () => {
    const server = await bed.start();
    for (const path of ["/%E0%A4%A", "/api/devices/%E0%A4%A/positions"]) {
      const res = await fetch(`${server.url}${path}`);
      const text = await res.text();
      // 503 is the deliberate "dashboard not built yet" page when dist/ is absent; never a 500.
      expect(res.status).not.toBe(500);
      expect(text).not.toMatch(/\bat \w|\/work\/|node_modules|\.ts:/);
    }
  });
});

describe("connection limit per address", () => {
  it("refuses connections beyond the limit and admits again once one closes", async () => {
    const server = await bed.start({ maxConnectionsPerIp: 3 });
    const first = await Promise.all(["a", "b", "c"].map((id) => bed.device(id)));
    // Refused at the WebSocket upgrade (HTTP 400), before the server allocates anything for it.
    await expect(connectDevice(server.url, "d")).rejects.toThrow(/websocket error/);
    first[0]!.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await bed.device("e");
    expect(again.connected).toBe(true);
  });
});

describe("behind a TLS-terminating proxy", () => {
  it("marks the session cookie Secure when --trust-proxy is on and the proxy says https", async () => {
    const signInVia = async (proto: string) => {
      const res = await fetch(`${bed.server.url}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-proto": proto },
        body: JSON.stringify({ username: "admin", password: "test-admin-pass" }),
      });
      return res.headers.get("set-cookie") ?? "";
    };
    await bed.start({ trustProxy: true });
    expect(await signInVia("https")).toMatch(/; Secure/);
    expect(await signInVia("http")).not.toMatch(/; Secure/);
    await bed.start({ trustProxy: false });
    expect(await signInVia("https")).not.toMatch(/; Secure/);
  });
});
