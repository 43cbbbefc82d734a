import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { Delivery, NotificationRule, Webhook } from "../../protocol/notifications.ts";
import { makePosition, report, signIn, useTestBed, waitFor } from "../support/locus.ts";
import { validSignature, WebhookReceiver } from "../support/webhook-receiver.ts";

/**
 * `locus webhook …` and `locus rule …` (issue #14): a user's own webhooks and rules from the
 * CLI, acting as the user --user names, against the database a running server uses; the server
 * delivers what the CLI set up, and every refusal names the flag.
 */
const bed = useTestBed();
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

/** Each CLI run is a process of its own (a second or more on a busy machine): many per test. */
const CLI_TEST_MS = 90_000;

/** The real CLI on the server's database; the receiver is on loopback, so private URLs are on. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "server/transports/cli/locus.ts", ...args, "--db", bed.server.db],
    { env: { ...process.env, LOCUS_WEBHOOK_ALLOW_PRIVATE: "true" } },
  );
  return stdout;
}

const json = async <T>(...args: string[]) => JSON.parse(await cli(...args, "--json")) as T;

describe("webhooks and rules from the CLI", () => {
  it(
    "adds a webhook, tests it, adds a rule the running server delivers by, shows the log, removes both",
    async () => {
      const server = await bed.start({ webhookAllowPrivate: true });
      const receiver = await new WebhookReceiver().listen();
      receivers.push(receiver);
      const van = await bed.device("van-1");
      expect(await report(van, makePosition())).toMatchObject({ ok: true });
      await cli("user", "add", "vera", "--devices", "van-1");

      const hook = await json<Webhook>(
        "webhook",
        "add",
        `http://127.0.0.1:${receiver.port}/hook`,
        "--user",
        "vera",
      );
      expect(hook.secret).toMatch(/^lcw_/);
      // Listed again without the secret: it is shown once, when added.
      const listed = await json<{ webhooks: Partial<Webhook>[] }>(
        "webhook",
        "list",
        "--user",
        "vera",
      );
      expect(listed.webhooks).toEqual([{ id: hook.id, url: hook.url, createdAt: hook.createdAt }]);
      // Another user's list does not have it.
      expect(await cli("webhook", "list", "--user", "admin")).toBe("no webhooks\n");

      expect(await cli("webhook", "test", String(hook.id), "--user", "vera")).toMatch(
        /^test delivered: HTTP 200 in \d+ ms$/m,
      );
      expect(receiver.received).toHaveLength(1);
      expect(validSignature(receiver.received[0]!, hook.secret)).toBe(true);

      const rule = await json<NotificationRule>(
        ...["rule", "add", "--user", "vera", "--name", "sos", "--types", "alarm"],
        ...["--devices", "van-1", "--hours", "Sat-Mon 22:00-06:00 Europe/Paris"],
        ...["--webhooks", String(hook.id)],
      );
      expect(rule).toMatchObject({
        name: "sos",
        types: ["alarm"],
        devices: ["van-1"],
        groups: [],
        geofences: [],
        hours: { days: [6, 7, 1], from: "22:00", to: "06:00", timeZone: "Europe/Paris" },
        webhooks: [hook.id],
      });
      // Any time, so the alarm below is delivered whatever the hour; to her browsers as well.
      const always = await json<NotificationRule>(
        ...["rule", "add", "--user", "vera", "--name", "always", "--types", "alarm"],
        ...["--webhooks", String(hook.id), "--push"],
      );
      expect(always).toMatchObject({ devices: [], hours: null, push: true });
      expect(rule.push).toBe(false);
      // The running server answers vera with what the CLI stored for her.
      const vera = await signIn(server.url, "vera", await newPassword());
      const rules = await (
        await fetch(`${server.url}/api/rules`, { headers: { cookie: vera } })
      ).json();
      expect(rules.rules.map((r: NotificationRule) => r.name).sort()).toEqual(["always", "sos"]);
      expect(await cli("rule", "list", "--user", "vera")).toMatch(
        /^\d+\tsos\talarm; van-1; days 6,7,1 22:00-06:00 Europe\/Paris; webhooks \d+\n\d+\talways\talarm; every device; webhooks \d+, push\n$/,
      );

      expect(await report(van, makePosition({ attributes: { alarm: "sos" } }))).toMatchObject({
        ok: true,
      });
      const log = await waitFor(
        async () => {
          const { deliveries } = await json<{ deliveries: Delivery[] }>(
            ...["webhook", "log", String(hook.id), "--user", "vera"],
          );
          return deliveries.find((d) => d.status === "delivered");
        },
        { timeoutMs: 10_000, what: "a delivered alarm in the log" },
      );
      expect(log).toMatchObject({ eventType: "alarm", deviceId: "van-1", lastStatus: 200 });
      expect(await cli("webhook", "log", String(hook.id), "--user", "vera")).toMatch(
        /\talarm\tvan-1\tdelivered\tHTTP 200\t1 attempt\(s\)/,
      );

      expect(await cli("rule", "remove", String(rule.id), "--user", "vera")).toBe(
        `rule ${rule.id} removed\n`,
      );
      await cli("rule", "remove", String(always.id), "--user", "vera");
      await cli("webhook", "remove", String(hook.id), "--user", "vera");
      expect(await cli("rule", "list", "--user", "vera")).toBe("no rules\n");
      expect(await cli("webhook", "list", "--user", "vera")).toBe("no webhooks\n");

      // vera was added with a generated password: give her one the test knows.
      async function newPassword(): Promise<string> {
        const res = await server.fetch("/api/admin/users/vera/password", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ password: "vera-password-1" }),
        });
        expect(res.status).toBe(200);
        return "vera-password-1";
      }
    },
    CLI_TEST_MS,
  );

  it(
    "names the flag of every refusal and stores nothing",
    async () => {
      await bed.start({ webhookAllowPrivate: true });
      await cli("user", "add", "vera");
      const hook = await json<Webhook>("webhook", "add", "http://127.0.0.1:9/x", "--user", "vera");
      const rule = (...flags: string[]) =>
        cli("rule", "add", "--user", "vera", "--name", "r", ...flags);
      const webhooks = ["--webhooks", String(hook.id)];

      await expect(cli("webhook", "add", "ftp://example.com", "--user", "vera")).rejects.toThrow(
        /URL \(url\): must be an http:\/\/ or https:\/\/ URL/,
      );
      await expect(cli("webhook", "list")).rejects.toThrow(/webhook list needs --user NAME/);
      await expect(cli("webhook", "list", "--user", "nobody")).rejects.toThrow(
        /--user: no user "nobody"/,
      );
      await expect(cli("webhook", "remove", "x", "--user", "vera")).rejects.toThrow(
        /"x" is not a webhook id/,
      );
      await expect(rule("--types", "alarm,nope", ...webhooks)).rejects.toThrow(
        /--types \(types\.1\): must be one of geofence_enter, .*alarm/,
      );
      await expect(rule("--webhooks", "99")).rejects.toThrow(
        /--webhooks \(webhooks\.0\): no webhook with id 99/,
      );
      await expect(rule()).rejects.toThrow(/rule add needs --webhooks/);
      await expect(rule("--devices", "ghost", ...webhooks)).rejects.toThrow(
        /--devices \(devices\.0\): no device "ghost"/,
      );
      await expect(rule("--geofences", "depot", ...webhooks)).rejects.toThrow(
        /--geofences: no geofence "depot"/,
      );
      await expect(rule("--hours", "Someday 08:00-18:00", ...webhooks)).rejects.toThrow(
        /--hours: "someday" is not a day/,
      );
      await expect(rule("--hours", "08:00-08:00 UTC", ...webhooks)).rejects.toThrow(
        /--hours \(hours\.to\): must differ from hours\.from/,
      );
      await expect(rule("--hours", "Mon 8-18", ...webhooks)).rejects.toThrow(
        /--hours: must be "\[DAYS\] HH:MM-HH:MM \[TIME ZONE\]"/,
      );
      await expect(rule("--hours", "Mon 08:00-18:00 Mars/Base", ...webhooks)).rejects.toThrow(
        /--hours \(hours\.timeZone\): must be a time zone name/,
      );
      expect(await cli("rule", "list", "--user", "vera")).toBe("no rules\n");
    },
    CLI_TEST_MS,
  );
});
