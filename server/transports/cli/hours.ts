import { CliError } from "./usage.ts";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FORM =
  '--hours: must be "[DAYS] HH:MM-HH:MM [TIME ZONE]", e.g. "Mon-Fri 08:00-18:00 Europe/Paris"';

/**
 * `--hours "Mon-Fri 08:00-18:00 Europe/Paris"` as the API's `hours`: days as a range or a list
 * ("Mon,Wed,Fri"; none: every day), the window, and the zone (none: this machine's, as the
 * dashboard defaults to the browser's). Times and zone are checked by the service, which names
 * the field; this only takes the words apart.
 */
export function parseHours(value: string): {
  days?: number[];
  from: string;
  to: string;
  timeZone: string;
} {
  const words = value.trim().split(/\s+/);
  const window = words.findIndex((w) => /^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/.test(w));
  if (window < 0 || window > 1 || words.length > window + 2) throw new CliError(FORM, false);
  const [from, to] = words[window]!.split("-") as [string, string];
  const pad = (t: string) => t.padStart(5, "0");
  return {
    ...(window === 1 ? { days: days(words[0]!) } : {}),
    from: pad(from),
    to: pad(to),
    timeZone: words[window + 1] ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

function days(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.toLowerCase().split(",")) {
    const [first, last] = part.split("-").map(day);
    if (last === undefined) out.push(first!);
    // A range that wraps the week ("Sat-Mon") is read as Saturday, Sunday, Monday.
    else
      for (let d = first!; ; d = (d % 7) + 1) {
        out.push(d);
        if (d === last) break;
      }
  }
  return out;
}

function day(name: string): number {
  const index = DAYS.indexOf(name.slice(0, 3));
  if (name.length < 3 || index < 0) {
    throw new CliError(`--hours: "${name}" is not a day (Mon … Sun)`, false);
  }
  return index + 1;
}
