import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Which top-level folders may import which: arrows run one way (issue #12). Checked by reading
 * the import specifiers of every source file, so a wrong arrow fails here rather than in review.
 * Only relative imports are judged; packages and node: builtins are outside these rules.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface Rule {
  /** A top-level folder whose files the rule applies to. */
  folder: string;
  /** Top-level folders its files must not import from. */
  forbidden?: string[];
  /** If set, the only top-level folders its files may import from (everything else is forbidden). */
  allowed?: string[];
  why: string;
}

const RULES: Rule[] = [
  {
    folder: "protocol",
    allowed: ["protocol"],
    why: "the contract everyone imports cannot depend on any of them",
  },
  {
    folder: "formats",
    forbidden: ["server", "simulator", "web"],
    why: "file readers are shared by the server and the simulator",
  },
  {
    folder: "simulator",
    forbidden: ["server", "web"],
    why: "the simulator is a client of any Locus server, not part of one",
  },
];

const SOURCE = /\.(ts|js|svelte)$/;

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => SOURCE.test(name))
    .map((name) => join(folder, name));
}

// `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`; multi-line imports
// included, since `[^;]*?` crosses newlines.
const SPECIFIER =
  /\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g;

function importSpecifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => (m[1] ?? m[2])!);
}

/** The top-level folder a relative specifier in `file` points into, or null for packages. */
function targetFolder(file: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
  return target.split(sep)[0]!;
}

function violations(rule: Rule): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(rule.folder)) {
    for (const specifier of importSpecifiers(readFileSync(join(ROOT, file), "utf8"))) {
      const folder = targetFolder(file, specifier);
      if (folder === null) continue;
      const bad = rule.allowed
        ? !rule.allowed.includes(folder)
        : (rule.forbidden ?? []).includes(folder);
      if (bad) found.push(`${file} imports "${specifier}"`);
    }
  }
  return found;
}

describe("import arrows", () => {
  it("reads every form of import specifier", () => {
    const source = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b.ts";',
      "import {\n  c,\n  type D,\n} from '../../c.ts';",
      'export { e } from "./e.ts";',
      'export * from "./f.ts";',
      'import "./side-effect.ts";',
      'const g = await import("./g.ts");',
    ].join("\n");
    expect(importSpecifiers(source)).toEqual([
      "./a.ts",
      "../b.ts",
      "../../c.ts",
      "./e.ts",
      "./f.ts",
      "./side-effect.ts",
      "./g.ts",
    ]);
    expect(targetFolder("simulator/gpx-replay.ts", "../server/exchange/x.ts")).toBe("server");
    expect(targetFolder("simulator/fleet.ts", "./vehicle.ts")).toBe("simulator");
    expect(targetFolder("simulator/fleet.ts", "socket.io-client")).toBeNull();
  });

  for (const rule of RULES) {
    const what = rule.allowed
      ? `imports only from ${rule.allowed.join(", ")}`
      : `does not import from ${rule.forbidden!.join(", ")}`;
    it(`${rule.folder}/ ${what}: ${rule.why}`, () => {
      // An empty or renamed folder would pass vacuously.
      expect(sourceFiles(rule.folder).length).toBeGreaterThan(0);
      expect(violations(rule)).toEqual([]);
    });
  }
});
