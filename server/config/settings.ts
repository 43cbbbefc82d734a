import { z } from "zod";
import { configSchema, DEFAULT_CONFIG, settingDocs, type Config } from "./schema.ts";

/** How a setting is written on the command line and in the environment. */
export type SettingKind = "int" | "number" | "text" | "choice" | "boolean";

/** One setting as parsing, `--help` and the README table need it, all read off the schema. */
export interface Setting {
  key: keyof Config;
  /** Without the leading `--`. */
  flag: string;
  env: string;
  kind: SettingKind;
  min?: number;
  choices?: readonly string[];
  default: Config[keyof Config];
  /** Markdown. */
  shownDefault: string;
  /** Markdown, one line. */
  description: string;
  /** The schema's rule for this key without its default, to check one value converted from text. */
  rule: z.ZodType;
}

/** `offlineAfterMs` → `offline-after-ms`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `offlineAfterMs` → `LOCUS_OFFLINE_AFTER_MS`. */
export function envName(key: string): string {
  return `LOCUS_${flagName(key).replaceAll("-", "_").toUpperCase()}`;
}

function kindOf(key: string, inner: z.ZodType): Pick<Setting, "kind" | "min" | "choices"> {
  if (inner instanceof z.ZodBoolean) return { kind: "boolean" };
  if (inner instanceof z.ZodString) return { kind: "text" };
  if (inner instanceof z.ZodEnum) return { kind: "choice", choices: inner.options.map(String) };
  if (inner instanceof z.ZodNumber) {
    // z.int() carries the safe-integer floor as its minimum: that is not a documented bound.
    const min = inner.minValue ?? undefined;
    const bounded = min !== undefined && min > Number.MIN_SAFE_INTEGER;
    return { kind: inner.isInt ? "int" : "number", ...(bounded ? { min } : {}) };
  }
  throw new Error(`config: setting ${key} has a rule that flags and docs cannot describe`);
}

function literal(value: unknown): string {
  return `\`${String(value)}\``;
}

export const SETTINGS: readonly Setting[] = configSchema.keyof().options.map((key) => {
  const declared = configSchema.shape[key];
  const doc = settingDocs.get(declared);
  // Without its default, so that a value that cannot be converted fails instead of defaulting.
  const rule = declared instanceof z.ZodDefault ? declared.unwrap() : declared;
  if (!doc) throw new Error(`config: setting ${key} has no description in schema.ts`);
  const setting: Setting = {
    key,
    flag: flagName(key),
    env: doc.env ?? envName(key),
    ...kindOf(key, rule),
    default: DEFAULT_CONFIG[key],
    shownDefault: doc.shownDefault ?? literal(DEFAULT_CONFIG[key]),
    description: doc.description,
    rule,
  };
  return setting;
});

/** The rule in words, for error messages: "an integer ≥ 0". */
export function ruleText(setting: Setting): string {
  const min = setting.min === undefined ? "" : ` ≥ ${setting.min}`;
  switch (setting.kind) {
    case "int":
      return `an integer${min}`;
    case "number":
      return `a number${min}`;
    case "choice":
      return `one of ${(setting.choices ?? []).join(", ")}`;
    case "boolean":
      return "true or false";
    case "text":
      return "text";
  }
}
