import type { Delivery, NotificationRule, Webhook } from "../../../protocol/notifications.ts";
import type { User } from "../../services/access.ts";
import { LocusError } from "../../services/errors.ts";
import { parseHours } from "./hours.ts";
import { CliError, list, type Cli } from "./usage.ts";

/**
 * `webhook add|list|remove|test|log …` and `rule add|list|remove …`: a user's own notification
 * webhooks and rules, acting as the user named by --user, through the same service (and so the
 * same checks) as /api/webhooks and /api/rules. An error names the flag that carried the field.
 */
export async function webhookCommand(cli: Cli, [verb, ...args]: string[]): Promise<void> {
  const { notifications } = cli.services;
  const { options, print } = cli;
  const user = await actingUser(cli, `webhook ${verb ?? ""}`);
  await namingFlags(async () => {
    if (verb === "add" && args.length === 1) {
      const hook = await notifications.createWebhook(user, { url: args[0] });
      print(hook, `webhook ${hook.id} ${hook.url}\nsecret: ${hook.secret} (shown only once)`);
    } else if (verb === "list" && args.length === 0) {
      const hooks = await notifications.webhooks(user);
      // The secret was shown when the webhook was added; a listing does not repeat it.
      const shown = hooks.map(({ secret: _secret, ...rest }) => rest);
      print({ webhooks: shown }, hooks.map(describeWebhook).join("\n") || "no webhooks");
    } else if (verb === "remove" && args.length === 1) {
      const id = idArg("webhook", args[0]!);
      await notifications.removeWebhook(user, id);
      print({ removed: id }, `webhook ${id} removed`);
    } else if (verb === "test" && args.length === 1) {
      const result = await notifications.testWebhook(user, idArg("webhook", args[0]!));
      const answer = result.status === null ? "no answer" : `HTTP ${result.status}`;
      const text = `${answer} in ${result.latencyMs} ms${result.error ? `: ${result.error}` : ""}`;
      if (!result.ok && !options.json) throw new CliError(`test failed: ${text}`, false);
      print(result, `test delivered: ${text}`);
    } else if (verb === "log" && args.length === 1) {
      const limit = options.limit === undefined ? 100 : positive("--limit", options.limit);
      const log = await notifications.deliveries(user, idArg("webhook", args[0]!), limit);
      print({ deliveries: log }, log.map(describeDelivery).join("\n") || "no deliveries yet");
    } else {
      throw new CliError(`unknown command "webhook ${[verb, ...args].join(" ")}"`);
    }
  });
}

export async function ruleCommand(cli: Cli, [verb, ...args]: string[]): Promise<void> {
  const { notifications } = cli.services;
  const { options, print } = cli;
  const user = await actingUser(cli, `rule ${verb ?? ""}`);
  await namingFlags(async () => {
    if (verb === "add" && args.length === 0) {
      if (options.name === undefined) throw new CliError("rule add needs --name NAME");
      if (options.webhooks === undefined && !options.push) {
        throw new CliError("rule add needs --webhooks ID,ID…, --push, or both");
      }
      const rule = await notifications.createRule(user, {
        name: options.name,
        types: list(options.types),
        // The CLI's --devices defaults to "all" (for user grants): here, every device.
        devices: options.devices === "all" ? [] : list(options.devices),
        groups: list(options.groups),
        geofences: ids("--geofences", options.geofences, (key) => fenceId(cli, key)),
        hours: options.hours === undefined ? null : parseHours(options.hours),
        webhooks: ids("--webhooks", options.webhooks, (key) => idArg("--webhooks", key)),
        push: options.push,
      });
      print(rule, `rule ${rule.id} "${rule.name}" added`);
    } else if (verb === "list" && args.length === 0) {
      const rules = await notifications.rules(user);
      print({ rules }, rules.map(describeRule).join("\n") || "no rules");
    } else if (verb === "remove" && args.length === 1) {
      const id = idArg("rule", args[0]!);
      await notifications.removeRule(user, id);
      print({ removed: id }, `rule ${id} removed`);
    } else {
      throw new CliError(`unknown command "rule ${[verb, ...args].join(" ")}"`);
    }
  });
}

async function actingUser(cli: Cli, command: string): Promise<User> {
  const name = cli.options.user;
  if (name === undefined) throw new CliError(`${command.trim()} needs --user NAME`);
  const user = await cli.services.access.userNamed(name);
  if (!user) throw new CliError(`--user: no user "${name}"`, false);
  return user;
}

/** The request's fields as the flags that carry them: `webhooks.0` came from --webhooks. */
const FLAG_OF: Record<string, string> = {
  url: "URL",
  name: "--name",
  types: "--types",
  devices: "--devices",
  groups: "--groups",
  geofences: "--geofences",
  hours: "--hours",
  webhooks: "--webhooks",
  push: "--push",
};

async function namingFlags(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof LocusError && err.field) {
      const flag = FLAG_OF[err.field.split(".")[0]!];
      if (flag) throw new CliError(`${flag} (${err.field}): ${err.rule}`, false);
    }
    throw err;
  }
}

function ids(flag: string, value: string | undefined, idOf: (key: string) => number): number[] {
  return list(value).map((key) => {
    try {
      return idOf(key);
    } catch (err) {
      if (err instanceof CliError) throw new CliError(`${flag}: ${err.message}`, false);
      throw err;
    }
  });
}

function idArg(what: string, raw: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) {
    throw new CliError(`"${raw}" is not a ${what.replace(/^--/, "").replace(/s$/, "")} id`, false);
  }
  return Number(raw);
}

function positive(flag: string, raw: string): number {
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) {
    throw new CliError(`${flag}: "${raw}" must be a whole number from 1`, false);
  }
  return Number(raw);
}

/** A fence by id or by name, as `geofence remove` takes it. */
function fenceId(cli: Cli, key: string): number {
  const fence = cli.services.geofences.list().find((f) => String(f.id) === key || f.name === key);
  if (!fence) throw new CliError(`no geofence "${key}"`, false);
  return fence.id;
}

const when = (ts: number | null) => (ts === null ? "-" : new Date(ts).toISOString());

function describeWebhook(h: Webhook): string {
  return `${h.id}\t${h.url}\tadded ${when(h.createdAt)}`;
}

function describeDelivery(d: Delivery): string {
  const code = d.lastStatus === null ? (d.lastError ?? "-") : `HTTP ${d.lastStatus}`;
  const next = d.status === "pending" ? `\tnext ${when(d.nextAt)}` : "";
  return `${when(d.createdAt)}\t${d.eventType}\t${d.deviceId}\t${d.status}\t${code}\t${d.attempts} attempt(s)${next}`;
}

function describeRule(r: NotificationRule): string {
  const about = [
    r.types.length ? r.types.join(",") : "every event",
    r.devices.length || r.groups.length
      ? [...r.devices, ...r.groups.map((g) => `group ${g}`)].join(",")
      : "every device",
    r.geofences.length ? `fences ${r.geofences.join(",")}` : null,
    r.hours
      ? `days ${r.hours.days.join(",")} ${r.hours.from}-${r.hours.to} ${r.hours.timeZone}`
      : null,
    `webhooks ${r.webhooks.join(",") || "none"}${r.push ? ", push" : ""}`,
  ];
  return `${r.id}\t${r.name}\t${about.filter(Boolean).join("; ")}`;
}
