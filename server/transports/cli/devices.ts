import { parseDeviceId, toAdminDevice } from "../../services/device-shapes.ts";
import { CliError, list, type Cli } from "./usage.ts";

/** `device add|allow-id-only|rename|groups|speed-limit|remove|list …` */
export async function deviceCommand(cli: Cli, [verb, ...args]: string[]): Promise<void> {
  const { devices } = cli.services;
  const { options, print } = cli;
  if (verb === "add") {
    if (args.length === 0) throw new CliError("device add needs at least one device id");
    if (options.name !== undefined && args.length > 1) {
      throw new CliError("--name names one device; add the others separately");
    }
    // Every id is checked before any is registered, so a typo registers nothing.
    for (const id of args) parseDeviceId(id, `device id "${id}"`);
    const tokens: Record<string, string> = {};
    for (const deviceId of args) {
      const { token } = await devices.register({
        deviceId,
        ...(options["allow-id-only"] ? { idOnly: true } : {}),
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.groups !== undefined ? { groups: list(options.groups) } : {}),
      });
      tokens[deviceId] = token;
    }
    const text = Object.entries(tokens).map(([id, token]) => `${id}\t${token}`);
    print(tokens, text.join("\n"));
    if (!options.json) {
      console.error(
        "Store these tokens now: Locus keeps only their hashes and cannot show them again.",
      );
    }
  } else if (verb === "allow-id-only" && args.length === 2) {
    const [id, setting] = args as [string, string];
    if (setting !== "on" && setting !== "off")
      throw new CliError("device allow-id-only needs on or off");
    await devices.change(id, { idOnly: setting === "on" });
    print(
      { deviceId: id, idOnly: setting === "on" },
      setting === "on"
        ? `${id} may now report by its identifier alone (no token needed)`
        : `${id} no longer reports by its identifier alone`,
    );
  } else if (verb === "rename" && args.length === 2) {
    const [id, name] = args as [string, string];
    const device = await devices.change(id, { name: name === "" ? null : name });
    print(toAdminDevice(device), `${id} is now shown as "${device.name ?? id}"`);
  } else if (verb === "groups" && args.length === 2) {
    const [id, groups] = args as [string, string];
    const device = await devices.change(id, { groups: list(groups) });
    print(toAdminDevice(device), `${id} is in ${device.groups.join(", ") || "no group"}`);
  } else if (verb === "speed-limit" && args.length === 2) {
    const [id, limit] = args as [string, string];
    // A number is checked by the service (the field and the rule, as the admin API says them).
    const kmh = limit === "none" ? null : limit.trim() === "" ? Number.NaN : Number(limit);
    const device = toAdminDevice(await devices.change(id, { speedLimitKmh: kmh }));
    print(
      device,
      device.speedLimitKmh === null
        ? `${id} follows the global speed limit`
        : `${id} has its own speed limit: ${device.speedLimitKmh} km/h`,
    );
  } else if (verb === "remove" && args.length === 1) {
    const { deviceId, positions } = await devices.detail(args[0]!);
    if (!options.yes) {
      throw new CliError(
        `${deviceId} has ${positions} stored positions; run again with --yes to remove it and all of them`,
        false,
      );
    }
    const removed = await devices.remove(deviceId);
    print({ deviceId, positionsRemoved: removed }, `${deviceId} removed with ${removed} positions`);
  } else if (verb === "list" && args.length === 0) {
    const all = (await devices.list()).map(toAdminDevice);
    const lines = all.map(
      (d) =>
        `${d.deviceId}\t${d.name ?? ""}\t${d.hasToken ? "token" : "no token"}${d.idOnly ? ", id-only" : ""}` +
        `${d.speedLimitKmh === null ? "" : `, ${d.speedLimitKmh} km/h`}` +
        `\t${d.groups.join(",")}\t${new Date(d.createdAt).toISOString()}`,
    );
    print(all, lines.join("\n"));
  } else {
    throw new CliError(`unknown command "device ${[verb, ...args].join(" ")}"`);
  }
}

/** `group add|remove|list …` */
export async function groupCommand(cli: Cli, [verb, ...args]: string[]): Promise<void> {
  const { devices } = cli.services;
  if (verb === "add" && args.length === 1) {
    const group = await devices.addGroup({ name: args[0] });
    cli.print(group, `group "${group.name}" added`);
  } else if (verb === "remove" && args.length === 1) {
    await devices.removeGroup(args[0]!);
    cli.print({ name: args[0], removed: true }, `group "${args[0]}" removed`);
  } else if (verb === "list" && args.length === 0) {
    const groups = await devices.groups();
    cli.print(groups, groups.map((g) => `${g.name}\t${g.devices.join(",")}`).join("\n"));
  } else {
    throw new CliError(`unknown command "group ${[verb, ...args].join(" ")}"`);
  }
}
