import { CliError, list, type Cli } from "./usage.ts";

/** `user add|token|reset-password|remove|list …`, with the admin API's rules. */
export async function userCommand(cli: Cli, [verb, ...args]: string[]): Promise<void> {
  const { people } = cli.services;
  const { options, print } = cli;
  const name = args[0];
  if (verb === "add" && name !== undefined && args.length === 1) {
    const user = await people.add("cli", {
      name,
      role: options.role,
      devices: options.devices === "all" ? "all" : list(options.devices),
      ...(options.groups !== undefined ? { groups: list(options.groups) } : {}),
    });
    print(user, `${user.name}\t${user.role}\tpassword: ${user.password}`);
  } else if (verb === "token" && name !== undefined && args.length === 1) {
    const token = await people.createApiToken(name);
    print({ name, token }, token);
  } else if (verb === "reset-password" && name !== undefined && args.length === 1) {
    const { password } = await people.resetPassword("cli", name, {});
    print({ name, password }, `${name}\tpassword: ${password}`);
  } else if (verb === "remove" && name !== undefined && args.length === 1) {
    await people.remove("cli", name);
    print({ name, removed: true }, `${name} removed`);
  } else if (verb === "list" && args.length === 0) {
    const users = await people.list();
    const lines = users.map((u) => {
      const sees =
        u.devices === "all"
          ? "all devices"
          : [...u.devices, ...u.groups.map((g) => `group:${g}`)].join(",");
      return `${u.name}\t${u.role}\t${sees}`;
    });
    print(users, lines.join("\n"));
  } else {
    throw new CliError(`unknown command "user ${[verb, ...args].join(" ")}"`);
  }
}
