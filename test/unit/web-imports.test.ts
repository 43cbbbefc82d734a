import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Which parts of the dashboard may import which. State is plain runes classes that components
 * and map layers read; if state imported the map (or a component), the map's Leaflet code would
 * come along wherever state is used, and the dependency would run both ways.
 */
const RULES: { folder: string; forbidden: RegExp; why: string }[] = [
  {
    folder: "web/src/lib/state",
    forbidden: /^web\/src\/lib\/map\//,
    why: "state does not import the map layer (the map reads state)",
  },
  {
    folder: "web/src/lib/state",
    forbidden: /\.svelte$/,
    why: "state does not import components (components read state)",
  },
  {
    folder: "web/src/lib/geo",
    forbidden: /^web\/src\/lib\/(?!geo\/)|^leaflet$/,
    why: "geo is plain math shared by state and map: it imports neither, nor Leaflet",
  },
  {
    folder: "web/src",
    forbidden: /^cheap-ruler$/,
    why: "the dashboard measures ground distance with protocol/geo.ts, the one distance function",
  },
];

const IMPORT =
  /\b(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s*["']([^"']+)["']/g;

/** What a source file imports: relative specifiers resolved to repo paths, packages as named. */
function importsOf(file: string, source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3]!;
    found.push(
      specifier.startsWith(".")
        ? relative(process.cwd(), resolve(dirname(file), specifier)).replaceAll("\\", "/")
        : specifier,
    );
  }
  return found;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((name) => /\.(ts|svelte)$/.test(name))
    .map((name) => join(folder, name).replaceAll("\\", "/"));
}

describe("dashboard import rules", () => {
  it("sees every form of import, resolved from the importing file", () => {
    const sample = [
      'import { a } from "../map/VehicleLayer.ts";',
      "import type { B } from '../map/glyphs.ts';",
      'import Card from "../components/Card.svelte";',
      'export { c } from "./sibling.ts";',
      'import "leaflet/dist/leaflet.css";',
      'const lazy = await import("../map/trail.ts");',
      'import {\n  d,\n  e,\n} from "leaflet";',
    ].join("\n");
    expect(importsOf("web/src/lib/state/x.svelte.ts", sample)).toEqual([
      "web/src/lib/map/VehicleLayer.ts",
      "web/src/lib/map/glyphs.ts",
      "web/src/lib/components/Card.svelte",
      "web/src/lib/state/sibling.ts",
      "leaflet/dist/leaflet.css",
      "web/src/lib/map/trail.ts",
      "leaflet",
    ]);
  });

  it.each(RULES)("$why", ({ folder, forbidden }) => {
    const files = sourceFiles(folder);
    expect(files.length).toBeGreaterThan(0);
    const broken = files.flatMap((file) =>
      importsOf(file, readFileSync(file, "utf8"))
        .filter((target) => forbidden.test(target))
        .map((target) => `${file} imports ${target}`),
    );
    expect(broken).toEqual([]);
  });
});
