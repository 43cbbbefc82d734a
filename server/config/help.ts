import { ruleText, SETTINGS, type Setting } from "./settings.ts";

/** A flag a command takes besides the server's settings (the demo's `--vehicles N`). */
export interface OwnFlag {
  flag: string;
  description: string;
}

const WIDTH = 100;

/** `-h` anywhere wins over everything else, even over a bad value, so help is always reachable. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/** The README's markdown, minus what only reads well rendered. */
function plain(markdown: string): string {
  return markdown.replaceAll("`", "");
}

function placeholder(setting: Setting): string {
  switch (setting.kind) {
    case "int":
    case "number":
      return " N";
    case "text":
      return " TEXT";
    case "choice":
      return " NAME";
    case "boolean":
      return "";
  }
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

/** Left column of names, right column of wrapped text, the way CLI help usually looks. */
function columns(rows: readonly { name: string; lines: string[] }[]): string {
  const indent = Math.max(...rows.map((r) => r.name.length)) + 4;
  return rows
    .map(({ name, lines }) =>
      lines
        .flatMap((line) => wrap(line, WIDTH - indent))
        .map((line, i) => (i === 0 ? `  ${name}`.padEnd(indent) : " ".repeat(indent)) + line)
        .join("\n"),
    )
    .join("\n");
}

function settingRow(setting: Setting): { name: string; lines: string[] } {
  const facts = [`env ${setting.env}`, `default ${plain(setting.shownDefault)}`];
  // Text takes anything; how to write a boolean is said once, above the list.
  if (setting.kind !== "text" && setting.kind !== "boolean") facts.push(ruleText(setting));
  return {
    name: `--${setting.flag}${placeholder(setting)}`,
    lines: [plain(setting.description), facts.join(" · ")],
  };
}

/**
 * What `--help` prints: the usage line, the command's own flags, then every server setting with
 * its environment variable, default and rule.
 */
export function helpText(
  usage: string,
  own?: { title: string; flags: readonly OwnFlag[] },
): string {
  const sections = [`usage: ${usage}`];
  if (own) {
    const rows = own.flags.map((f) => ({ name: f.flag, lines: [f.description] }));
    sections.push(`${own.title}:\n${columns(rows)}`);
  }
  sections.push(
    "Server settings: each comes from its flag, else its environment variable, else the default.\n" +
      "A boolean flag alone turns its setting on; in the environment write true or false.",
    columns(SETTINGS.map(settingRow)),
  );
  return `${sections.join("\n\n")}\n`;
}
