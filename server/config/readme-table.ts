import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { SETTINGS, type Setting } from "./settings.ts";

// Used by `npm run docs:config` and the test that keeps README.md in step, never by the server
// (prettier is a dev dependency).

export const README_PATH = fileURLToPath(new URL("../../README.md", import.meta.url));
export const TABLE_START =
  "<!-- config-table:start: generated from server/config/schema.ts by `npm run docs:config` -->";
export const TABLE_END = "<!-- config-table:end -->";

function valueText(setting: Setting): string {
  const min = setting.min === undefined ? "" : ` ≥ ${setting.min}`;
  switch (setting.kind) {
    case "int":
      return `integer${min}`;
    case "number":
      return `number${min}`;
    case "choice":
      return (setting.choices ?? []).map((c) => `\`${c}\``).join(", ");
    case "boolean":
      return "boolean";
    case "text":
      return "text";
  }
}

/** The configuration table as prettier writes it, so that `prettier --check` accepts README.md. */
export async function configTable(): Promise<string> {
  const rows = [
    ["flag", "environment", "value", "default", "meaning"],
    ["-", "-", "-", "-", "-"],
    ...SETTINGS.map((s) => [
      `\`--${s.flag}\``,
      `\`${s.env}\``,
      valueText(s),
      s.shownDefault,
      s.description,
    ]),
  ];
  const markdown = rows
    .map((cells) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`)
    .join("\n");
  const options = await resolveConfig(README_PATH);
  return format(markdown, { ...options, parser: "markdown" });
}

function sectionBounds(readme: string): [number, number] {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md lacks the markers ${TABLE_START} … ${TABLE_END}`);
  }
  return [start + TABLE_START.length, end];
}

/** The table currently between the markers. */
export function tableIn(readme: string): string {
  const [start, end] = sectionBounds(readme);
  return `${readme.slice(start, end).trim()}\n`;
}

/** README.md with `table` between the markers, blank lines around it as prettier keeps them. */
export function withTable(readme: string, table: string): string {
  const [start, end] = sectionBounds(readme);
  return `${readme.slice(0, start)}\n\n${table.trim()}\n\n${readme.slice(end)}`;
}
