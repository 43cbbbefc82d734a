import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import type { PushPayload, PushSubscriptionInfo } from "../../protocol/push.ts";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import {
  connectDevice,
  report,
  startTestLocus,
  waitFor,
  type DeviceSocket,
  type TestLocus,
} from "../support/locus.ts";
import { TestPushService, type TestBrowser } from "../support/push-service.ts";

// Browser notifications (issue #14) in Chromium: the events tab's switch registers the service
// worker and subscribes; an event then reaches the push service encrypted for this browser, and
// the service worker shows it. Headless Chromium has no push service of its own, so the page's
// PushManager is replaced by one that hands out a subscription at the test's push service with
// keys the test made (the browser is stubbed, not Locus); the message is then handed to the
// worker through the DevTools protocol, as a push service would.

let server: TestLocus;
let pushService: TestPushService;
let subscriber: TestBrowser;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let van: DeviceSocket;

/** Runs in the page before its scripts: PushManager answering with the test's subscription. */
function stubPushManager(sub: { endpoint: string; p256dh: string; auth: string }): void {
  const bytes = (text: string) => {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
  };
  let current: object | null = null;
  const w = window as unknown as { locusTestServerKey?: string };
  PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
    const key = new Uint8Array(options!.applicationServerKey as ArrayBuffer);
    w.locusTestServerKey = btoa(String.fromCharCode(...key))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    current = {
      endpoint: sub.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: key.buffer },
      getKey: (name: string) => bytes(name === "p256dh" ? sub.p256dh : sub.auth),
      toJSON: () => ({
        endpoint: sub.endpoint,
        expirationTime: null,
        keys: { p256dh: sub.p256dh, auth: sub.auth },
      }),
      unsubscribe: async () => {
        current = null;
        return true;
      },
    };
    return current as PushSubscription;
  };
  PushManager.prototype.getSubscription = async function () {
    return current as PushSubscription | null;
  };
}

async function subscriptions(): Promise<PushSubscriptionInfo[]> {
  const res = await server.fetch("/api/push/subscriptions");
  return ((await res.json()) as { subscriptions: PushSubscriptionInfo[] }).subscriptions;
}

const toggle = () => page.getByTestId("push-toggle");

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  // Private addresses allowed: the push service is on this machine, over plain http.
  server = await startTestLocus({ webhookAllowPrivate: true });
  pushService = await new TestPushService().listen();
  subscriber = pushService.browser();
  van = await connectDevice(server.url, "van-9");
  browser = await launchChromium();
  ({ page } = await adminPage(browser, server, { permissions: ["notifications"] }));
  context = page.context();
  const { endpoint, p256dh, auth } = subscriber;
  await page.addInitScript(stubPushManager, { endpoint, p256dh, auth });
  await page.goto(server.url);
  await page.locator("[data-testid=connection][data-state=live]").waitFor();
});

afterAll(async () => {
  van?.close();
  await browser?.close();
  await pushService?.close();
  await server?.dispose();
});

describe("browser notifications in Chromium", () => {
  it("serves the service worker from the root, as JavaScript, not cached for long", async () => {
    const res = await fetch(`${server.url}/sw.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toBe("no-cache");
  });

  it("registers the service worker and subscribes when the switch is turned on", async () => {
    await page.getByTestId("panel-tab-events").click();
    await page.locator("[data-testid=push-toggle][data-status=off]").waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}/push-off.png` });
    await toggle().locator("label").click();
    await page.locator("[data-testid=push-toggle][data-status=on]").waitFor();
    expect(await page.getByTestId("push-hint").textContent()).toMatch(/reach this browser/);
    await page.screenshot({ path: `${SCREENSHOTS}/push-on.png` });

    const worker = await page.evaluate(
      async () => (await navigator.serviceWorker.ready).active?.scriptURL,
    );
    expect(worker).toBe(`${server.url}/sw.js`);
    // Subscribed with the server's key, and the server holds this browser's subscription.
    const { publicKey } = (await (await server.fetch("/api/push/key")).json()) as {
      publicKey: string;
    };
    expect(
      await page.evaluate(() => (window as { locusTestServerKey?: string }).locusTestServerKey),
    ).toBe(publicKey);
    expect((await subscriptions()).map((s) => s.endpoint)).toEqual([subscriber.endpoint]);
  });

  it("gets an event as a push message for this browser, and the worker shows it", async () => {
    const rule = await server.fetch("/api/rules", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "SOS", types: ["alarm"], push: true }),
    });
    expect(rule.status).toBe(201);
    const ack = await report(van, {
      ts: Date.now() - 1000,
      lat: 52.52,
      lon: 13.405,
      attributes: { alarm: "sos" },
    });
    expect(ack.ok).toBe(true);
    await waitFor(() => pushService.messages.length >= 1, { what: "the push message" });
    const payload: PushPayload = subscriber.decrypt(pushService.messages[0]!.body);
    const [event] = ((await (await server.fetch("/api/events")).json()) as { events: FleetEvent[] })
      .events;
    expect(payload).toMatchObject({
      title: "van-9 · Alarm",
      body: "SOS",
      eventId: event!.id,
      deviceId: "van-9",
      url: "/?device=van-9",
    });

    // What the push service would do next: hand the message to this browser's worker.
    const cdp = await context.newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on("ServiceWorker.workerRegistrationUpdated", (e) =>
      registrations.push(...e.registrations),
    );
    await cdp.send("ServiceWorker.enable");
    const registration = await waitFor(
      () => registrations.find((r) => r.scopeURL === `${server.url}/`),
      { what: "the worker's registration", timeoutMs: 15_000 },
    );
    await cdp.send("ServiceWorker.deliverPushMessage", {
      origin: server.url,
      registrationId: registration.registrationId,
      data: JSON.stringify(payload),
    });
    const shown = await waitFor(
      async () => {
        const list = await page.evaluate(async () =>
          (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
            title: n.title,
            body: n.body,
            tag: n.tag,
          })),
        );
        return list.length > 0 ? list : undefined;
      },
      { what: "the notification shown", timeoutMs: 15_000 },
    );
    expect(shown).toEqual([
      { title: "van-9 · Alarm", body: "SOS", tag: `locus-event-${event!.id}` },
    ]);
  });

  it("unsubscribes on both sides when the switch is turned off", async () => {
    await toggle().locator("label").click();
    await page.locator("[data-testid=push-toggle][data-status=off]").waitFor();
    expect(await subscriptions()).toEqual([]);
  });
});
