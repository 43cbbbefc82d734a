import { afterEach, describe, expect, it } from "vitest";
import { HttpWebhookSender } from "../../server/webhooks/http-sender.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

/**
 * The wire of webhooks against a real receiver on loopback: names resolved and every address
 * checked at send time, the request made to the checked address (DNS rebinding cannot redirect
 * it), redirects not followed, a time limit.
 */

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().listen();
  receivers.push(r);
  return r;
}

const request = (url: string, timeoutMs = 2000) => ({
  url,
  body: JSON.stringify({ id: 1 }),
  headers: { "content-type": "application/json" },
  timeoutMs,
});

describe("HttpWebhookSender", () => {
  it("refuses a name that resolves to a private address when it is sent to, not only when saved", async () => {
    const rx = await receiver();
    // A rebinding name: public when the webhook is saved, loopback a moment later.
    const answers = [["93.184.216.34"], ["127.0.0.1"]];
    const sender = new HttpWebhookSender({
      allowPrivate: false,
      userAgent: "test",
      resolve: async () => answers.shift()!.map((address) => ({ address, family: 4 as const })),
    });
    const url = `http://rebind.test:${rx.port}/hook`;
    expect(await sender.refusal(url)).toBeNull();
    const res = await sender.send(request(url));
    expect(res.status).toBeNull();
    expect(res.error).toMatch(/loopback, private or link-local address \(127\.0\.0\.1\)/);
    expect(rx.received).toHaveLength(0);
  });

  it("refuses a name when any of its addresses is private", async () => {
    const sender = new HttpWebhookSender({
      allowPrivate: false,
      userAgent: "test",
      resolve: async () => [
        { address: "93.184.216.34", family: 4 },
        { address: "10.0.0.5", family: 4 },
      ],
    });
    expect(await sender.refusal("https://mixed.test/")).toMatch(/10\.0\.0\.5/);
  });

  it("connects to the address it checked, keeping the name in the Host header", async () => {
    const rx = await receiver();
    let lookups = 0;
    const sender = new HttpWebhookSender({
      allowPrivate: true,
      userAgent: "Locus-Webhooks/test",
      resolve: async () => {
        lookups++;
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    const res = await sender.send(request(`http://hooks.example.test:${rx.port}/hook`));
    expect(res).toMatchObject({ status: 200, error: null });
    expect(lookups).toBe(1);
    expect(rx.received[0]!.headers.host).toBe(`hooks.example.test:${rx.port}`);
    expect(rx.received[0]!.headers["user-agent"]).toBe("Locus-Webhooks/test");
    expect(rx.received[0]!.raw).toBe('{"id":1}');
  });

  it("does not follow a redirect, and reports what the receiver said", async () => {
    const target = await receiver();
    const rx = await receiver();
    const sender = new HttpWebhookSender({ allowPrivate: true, userAgent: "test" });
    // A receiver that redirects (to a place the sender must not go on its own).
    rx.respond = () => 307;
    const res = await sender.send(request(rx.url));
    expect(res.status).toBe(307);
    expect(res.error).toMatch(/^redirect to .* not followed/);
    expect(target.received).toHaveLength(0);

    rx.respond = () => 422;
    const refused = await sender.send(request(rx.url));
    expect(refused).toMatchObject({ status: 422, error: "HTTP 422: no" });
  });

  it("gives up on a receiver that does not answer in time, and on a closed port", async () => {
    const rx = await receiver();
    rx.respond = () => "stall";
    const sender = new HttpWebhookSender({ allowPrivate: true, userAgent: "test" });
    const slow = await sender.send(request(rx.url, 300));
    expect(slow).toMatchObject({ status: null, error: "no answer within 0.3 s" });
    expect(slow.latencyMs).toBeGreaterThanOrEqual(290);
    const url = rx.url;
    await rx.close();
    const closed = await sender.send(request(url));
    expect(closed.status).toBeNull();
    expect(closed.error).toMatch(/ECONNREFUSED/);
  });
});
