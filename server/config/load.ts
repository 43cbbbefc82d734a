import { parseArgs } from "node:util";
import { configSchema, type Config } from "./schema.ts";
import { ruleText, SETTINGS, type Setting } from "./settings.ts";

/** A setting given a value it cannot take; the message names the flag or variable and the rule. */
export class ConfigError extends Error {}

/** Text from argv or the environment → the value for the schema to check (undefined: none fits). */
function fromText(setting: Setting, raw: string): unknown {
  switch (setting.kind) {
    case "boolean":
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return undefined;
    case "int":
    case "number":
      // Number("") is 0: a blank value is a mistake, not zero.
      return raw.trim() === "" ? undefined : Number(raw);
    default:
      return raw;
  }
}

function convert(setting: Setting, raw: string | boolean, source: string): unknown {
  const checked = setting.rule.safeParse(typeof raw === "boolean" ? raw : fromText(setting, raw));
  if (!checked.success) {
    throw new ConfigError(`${source} must be ${ruleText(setting)}, got "${String(raw)}"`);
  }
  return checked.data;
}

function parseFlags(argv: string[]): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(
    SETTINGS.map((s) => [s.flag, { type: s.kind === "boolean" ? "boolean" : "string" } as const]),
  );
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    // Node's text for this one suggests passing the flag as a positional, which never helps here.
    const unknown = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && /'([^']+)'/.exec(message)?.[1];
    throw new ConfigError(unknown ? `unknown flag ${unknown}` : message);
  }
}

/**
 * Flags win over the environment, which wins over the defaults; an empty variable counts as unset.
 * Unknown flags and bad values are a ConfigError. `overrides` (tests) are taken as given.
 */
export function loadConfig(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Config> = {},
): Readonly<Config> {
  const flags = parseFlags(argv);
  const given: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flagValue = flags[s.flag];
    const envValue = env[s.env];
    if (flagValue !== undefined) given[s.key] = convert(s, flagValue, `--${s.flag}`);
    else if (envValue !== undefined && envValue !== "") given[s.key] = convert(s, envValue, s.env);
  }
  // Every value is already checked; parsing again fills the defaults and gives the Config type.
  return Object.freeze({ ...configSchema.parse(given), ...overrides });
}
