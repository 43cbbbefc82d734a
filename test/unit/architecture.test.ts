import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Which folders may import which: arrows run one way (issue #12). Checked by reading the import
 * specifiers of every source file, so a wrong arrow fails here rather than in review. Only
 * relative imports are judged; packages and node: builtins are outside these rules. Folders are
 * paths from the repository root ("server/stores"); a rule about one covers everything under it.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface Rule {
  /** A folder whose files the rule applies to. */
  folder: string;
  /** Folders its files must not import from. */
  forbidden?: string[];
  /** If set, the only folders its files may import from (everything else is forbidden). */
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
  {
    folder: "server/stores",
    allowed: ["server/stores", "server/logger.ts", "protocol"],
    why: "stores speak SQL for the services; the rules above them are not theirs to call",
  },
  {
    folder: "server/services",
    forbidden: [
      "server/transports",
      "server/live",
      "server/cluster",
      "server/observability",
      "server/app.ts",
      "server/start.ts",
      "web",
    ],
    why: "a rule is the same whichever transport asked, so services know no transport (nor metrics: they get an observer)",
  },
  {
    folder: "server/history",
    forbidden: ["server/transports", "server/services", "server/live", "web"],
    why: "track algorithms are pure: the history service calls them, not the other way round",
  },
  {
    folder: "server/live",
    forbidden: ["server/transports", "server/cluster", "server/stores/sqlite", "web"],
    why: "the live hub fans out what services decided, over whatever socket a transport gave it",
  },
  {
    folder: "server/cluster",
    forbidden: ["server/transports", "server/stores/sqlite", "server/stores/postgres", "web"],
    why: "the cluster bus carries what services decided between nodes; it decides nothing itself",
  },
  {
    folder: "scripts",
    forbidden: ["server", "web"],
    why: "scripts start Locus as an operator would, as processes, not by importing its insides",
  },
  {
    folder: "server/transports",
    forbidden: ["server/stores/sqlite", "server/history/level-builder.ts"],
    why: "transports call services; only the CLI's composition opens a store (see cli/locus.ts)",
  },
];

/** Files allowed to break a rule, each with the reason. */
const EXCEPTIONS: Record<string, string> = {
  // The CLI is a composition root of its own: it opens the database its flags name.
  "server/transports/cli/locus.ts": "server/stores/sqlite",
};

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

/** The path (from the root) a relative specifier in `file` points at, or null for packages. */
function targetPath(file: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  return relative(ROOT, resolve(ROOT, dirname(file), specifier))
    .split(sep)
    .join("/");
}

const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

function violations(rule: Rule): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(rule.folder)) {
    for (const specifier of importSpecifiers(readFileSync(join(ROOT, file), "utf8"))) {
      const target = targetPath(file, specifier);
      if (target === null) continue;
      const bad = rule.allowed
        ? !rule.allowed.some((f) => within(target, f))
        : (rule.forbidden ?? []).some((f) => within(target, f));
      const excused = EXCEPTIONS[file.split(sep).join("/")];
      if (bad && !(excused && within(target, excused)))
        found.push(`${file} imports "${specifier}"`);
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
    expect(targetPath("simulator/gpx-replay.ts", "../server/exchange/x.ts")).toBe(
      "server/exchange/x.ts",
    );
    expect(within(targetPath("simulator/fleet.ts", "./vehicle.ts")!, "simulator")).toBe(true);
    expect(within("server/stores-old/x.ts", "server/stores")).toBe(false);
    expect(targetPath("simulator/fleet.ts", "socket.io-client")).toBeNull();
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
