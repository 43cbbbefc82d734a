import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../server/build-dashboard.ts";
import { silentLogger } from "../../server/logger.ts";
import { adminPage, launchChromium, SCREENSHOTS } from "../support/browser.ts";
import {
  connectDevice,
  makePosition,
  report,
  startTestLocus,
  waitFor,
  type DeviceSocket,
  type TestLocus,
} from "../support/locus.ts";
import { validSignature, WebhookReceiver } from "../support/webhook-receiver.ts";

// A viewer's own notifications in the dashboard (issue #14): they add a webhook pointing at a
// receiver on this machine, copy its secret (shown once), send a test the receiver verifies,
// build a rule through the form (a missing webhook is named at its field), and see an alarm of
// their van delivered in the webhook's log.

const DEVICE = "van-7";
const VIEWER = { name: "vera", password: "vera-password-1" };

let server: TestLocus;
let receiver: WebhookReceiver;
let browser: Browser;
let page: Page;
let van: DeviceSocket;
/** The secret the page showed once; the receiver's requests must be signed with it. */
let secret = "";

beforeAll(async () => {
  await ensureDashboardBuilt(silentLogger);
  receiver = await new WebhookReceiver().listen();
  // The receiver is on loopback: only this setting lets Locus call it.
  server = await startTestLocus({ webhookAllowPrivate: true, webhookRetryBaseMs: 200 });
  van = await connectDevice(server.url, DEVICE);
  expect(await report(van, makePosition())).toMatchObject({ ok: true, accepted: 1 });
  const viewer = await server.fetch("/api/admin/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...VIEWER, role: "viewer", devices: [DEVICE] }),
  });
  expect(viewer.status).toBe(201);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  // No internet here: map tiles must fail fast rather than hang the page.
  await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
  await page.goto(server.url);
  await page.getByTestId("login-username").fill(VIEWER.name);
  await page.getByTestId("login-password").fill(VIEWER.password);
  await page.getByTestId("login-submit").click();
  await page.locator("[data-testid=connection][data-state=live]").waitFor();
});

afterAll(async () => {
  van?.close();
  await browser?.close();
  await server?.dispose();
  await receiver?.close();
});

describe("notifications in Chromium, as a viewer", () => {
  it("adds a webhook, shows its secret once, and sends a signed test the receiver gets", async () => {
    // Not an admin: no Manage button, but their own notifications.
    await expect(page.getByTestId("admin-open").count()).resolves.toBe(0);
    await page.getByTestId("notify-open").click();
    const panel = page.getByTestId("notify-panel");
    await panel.waitFor();
    await panel.getByText("No webhooks yet.").waitFor();

    await page.getByLabel("Add a webhook").fill(`http://127.0.0.1:${receiver.port}/locus`);
    await page.getByTestId("notify-webhook-add").click();
    const shown = page.getByTestId("notify-webhook-secret");
    await shown.waitFor();
    secret = (await shown.textContent())!.trim();
    expect(secret).toMatch(/^lcw_/);
    await page.screenshot({ path: `${SCREENSHOTS}/notify-webhook-secret.png` });
    await page.getByRole("button", { name: "I have stored it" }).click();
    await shown.waitFor({ state: "detached" });
    // Listed, without the secret: it was shown once.
    const row = page.getByTestId("notify-webhook-row");
    await expect(row.textContent()).resolves.toContain(`127.0.0.1:${receiver.port}/locus`);
    await expect(row.textContent()).resolves.not.toContain(secret);
    await expect(row.getByTestId("notify-webhook-status").textContent()).resolves.toContain(
      "No deliveries yet",
    );

    await row.getByTestId("notify-webhook-test").click();
    const message = page.getByTestId("notify-webhook-message");
    await message.waitFor();
    await expect(message.textContent()).resolves.toMatch(/Test delivered: HTTP 200 in \d+ ms/);
    expect(receiver.received).toHaveLength(1);
    const test = receiver.received[0]!;
    expect(test.body.test).toBe(true);
    expect(test.headers["x-locus-event"]).toBe("test");
    expect(validSignature(test, secret)).toBe(true);
  });

  it("names the field a rule lacks, then saves it and shows the alarm it sends in the log", async () => {
    await page.getByTestId("notify-tab-rules").click();
    await page.getByTestId("notify-rule-new").click();
    const form = page.getByTestId("notify-rule-form");
    await form.getByTestId("notify-rule-name").fill("SOS from the van");
    await form.getByTestId("notify-rule-type-alarm").check();
    await form.getByTestId(`notify-rule-device-${DEVICE}`).check();
    // The viewer's one van is offered by its name; every event type the server knows is offered.
    for (const type of ["geofence_enter", "geofence_exit", "overspeed", "battery_low"]) {
      await form.getByTestId(`notify-rule-type-${type}`).waitFor();
    }

    // No webhook ticked: the server refuses, and says so under the webhooks, nowhere else.
    await form.getByTestId("notify-rule-save").click();
    const error = form.getByTestId("notify-rule-new-error-webhooks");
    await error.waitFor();
    await expect(error.textContent()).resolves.toContain("must name at least one webhook");
    await expect(form.locator(".field-error").count()).resolves.toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}/notify-rule-error.png` });
    const rules = await (await fetchAs("/api/rules")).json();
    expect(rules.rules).toEqual([]);

    // Limited to a window that covers now, in the browser's own zone (the form's default).
    await form.getByTestId("notify-rule-limit-hours").check();
    for (let day = 1; day <= 7; day++) await form.getByTestId(`notify-rule-day-${day}`).check();
    await form.getByTestId("notify-rule-from").fill("00:00");
    await form.getByTestId("notify-rule-to").fill("00:00");
    await form.getByTestId("notify-rule-save").click();
    // From and to equal: that error belongs to "to".
    await form.getByTestId("notify-rule-new-error-hours.to").waitFor();
    await expect(form.getByTestId("notify-rule-to").getAttribute("aria-invalid")).resolves.toBe(
      "true",
    );
    await expect(form.getByTestId("notify-rule-new-error-webhooks").count()).resolves.toBe(0);
    await form.getByTestId("notify-rule-to").fill("23:59");
    await form.locator("[data-testid^=notify-rule-webhook-]").check();
    await form.getByTestId("notify-rule-save").click();
    await form.waitFor({ state: "detached" });
    const row = page.getByTestId("notify-rule-row");
    await expect(row.textContent()).resolves.toContain("SOS from the van");
    await expect(row.textContent()).resolves.toContain("Alarm of");
    await page.screenshot({ path: `${SCREENSHOTS}/notify-rules.png` });

    const [stored] = (await (await fetchAs("/api/rules")).json()).rules;
    expect(stored).toMatchObject({
      name: "SOS from the van",
      types: ["alarm"],
      devices: [DEVICE],
      hours: { days: [1, 2, 3, 4, 5, 6, 7], from: "00:00", to: "23:59" },
    });

    // The driver presses SOS. The rule's window ends at 23:59 in this machine's zone (the
    // browser's): an alarm in the last minutes of a day is dated a little earlier, inside it.
    const now = new Date();
    const late = now.getHours() === 23 && now.getMinutes() >= 58;
    const sos = makePosition({
      ts: now.getTime() - (late ? 180_000 : 0),
      attributes: { alarm: "sos" },
    });
    expect(await report(van, sos)).toMatchObject({ ok: true, accepted: 1 });
    const delivered = await waitFor(() =>
      receiver.received.find((r) => r.headers["x-locus-event"] === "alarm"),
    );
    expect(validSignature(delivered, secret)).toBe(true);
    expect(delivered.body.device.id).toBe(DEVICE);

    await page.getByTestId("notify-tab-webhooks").click();
    await page.getByTestId("notify-webhook-log").click();
    const log = page.getByTestId("notify-delivery-log");
    await log.waitFor();
    // The outbox marks it delivered once the receiver's answer is in: refresh until then.
    await expect
      .poll(
        async () => {
          await log.getByRole("button", { name: "Refresh" }).click();
          return log.locator("[data-testid=notify-delivery-row][data-status=delivered]").count();
        },
        { timeout: 10_000 },
      )
      .toBe(1);
    const entry = log.getByTestId("notify-delivery-row");
    await expect(entry.textContent()).resolves.toMatch(/Alarm.*van-7.*Delivered.*HTTP 200/s);
    // The list's status follows the log it opened.
    await expect(page.getByTestId("notify-webhook-status").textContent()).resolves.toMatch(
      /Delivered \(HTTP 200\)/,
    );
    await page.screenshot({ path: `${SCREENSHOTS}/notify-delivery-log.png` });

    // The receiver fails: the next alarm stays in the log as retrying, with its answer and when.
    receiver.respond = () => 500;
    await report(van, makePosition({ ts: Date.now(), attributes: { alarm: "sos" } }));
    const retrying = log.locator("[data-testid=notify-delivery-row][data-status=pending]");
    await expect
      .poll(
        async () => {
          await log.getByRole("button", { name: "Refresh" }).click();
          return retrying.count();
        },
        { timeout: 10_000 },
      )
      .toBe(1);
    await expect(retrying.textContent()).resolves.toMatch(/Retrying.*HTTP 500/s);
    await expect(retrying.locator("td").last().textContent()).resolves.not.toBe("—");
    receiver.respond = () => 200;
  });
});

describe("notifications on a phone", () => {
  it("edits the rule in place, keyboard only, and fits 390 px", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId("notify-tab-rules").click();
    await page.getByTestId("notify-rule-edit").click();
    const form = page.getByTestId("notify-rule-form");
    const name = form.getByTestId("notify-rule-name");
    await name.focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("SOS, any van");
    // Untick the device by keyboard: the rule is now about every device the viewer sees.
    await form.getByTestId(`notify-rule-device-${DEVICE}`).focus();
    await page.keyboard.press("Space");
    await form.getByTestId("notify-rule-zone").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/notify-rule-edit-phone.png` });
    const panelBox = await page.getByTestId("notify-panel").boundingBox();
    const zoneBox = await form.getByTestId("notify-rule-zone").boundingBox();
    expect(zoneBox!.x + zoneBox!.width).toBeLessThanOrEqual(panelBox!.x + panelBox!.width);
    await name.press("Enter");
    await form.waitFor({ state: "detached" });
    const [stored] = (await (await fetchAs("/api/rules")).json()).rules;
    expect(stored).toMatchObject({ name: "SOS, any van", devices: [], types: ["alarm"] });
    await page.getByTestId("notify-rule-row").getByText("Alarm of every device").waitFor();
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});

describe("removing", () => {
  it("asks before removing a rule and a webhook, and both are gone", async () => {
    await page.getByTestId("notify-tab-rules").click();
    await page.getByTestId("notify-rule-remove").click();
    // Focus is on Cancel, so a second Enter does not remove; the confirm button does.
    await page.getByTestId("notify-rule-remove-confirm").click();
    await page.getByText("No rules yet.").waitFor();
    await page.getByTestId("notify-tab-webhooks").click();
    await page.getByTestId("notify-webhook-remove").click();
    await expect(
      page.getByTestId("notify-webhook-remove-confirm-question").textContent(),
    ).resolves.toContain("Remove this webhook?");
    await page.getByTestId("notify-webhook-remove-confirm").click();
    await page.getByText("No webhooks yet.").waitFor();
    expect((await (await fetchAs("/api/webhooks")).json()).webhooks).toEqual([]);
    expect((await (await fetchAs("/api/rules")).json()).rules).toEqual([]);
  });
});

describe("notifications next to the admin panel", () => {
  it("offers an admin both, each in its own dialog, and Escape closes it", async () => {
    const { page: admin } = await adminPage(browser, server);
    await admin.goto(server.url);
    await admin.locator("[data-testid=connection][data-state=live]").waitFor();
    await admin.getByTestId("admin-open").waitFor();
    await admin.getByTestId("notify-open").click();
    await admin.getByTestId("notify-panel").waitFor();
    // Each user has their own: the viewer's webhook is not the admin's.
    await admin.getByText("No webhooks yet.").waitFor();
    await admin.screenshot({ path: `${SCREENSHOTS}/notify-admin.png` });
    await admin.keyboard.press("Escape");
    await admin.getByTestId("notify-panel").waitFor({ state: "detached" });
    await admin.getByTestId("admin-open").click();
    await admin.getByTestId("admin-panel").waitFor();
    await admin.context().close();
  });
});

/** The viewer's own REST view, with the page's session cookie. */
async function fetchAs(path: string): Promise<Response> {
  const cookies = await page.context().cookies(server.url);
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  return fetch(`${server.url}${path}`, { headers: { cookie } });
}
