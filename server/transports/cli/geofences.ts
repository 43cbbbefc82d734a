import { readFile, writeFile } from "node:fs/promises";
import {
  fromGeoJson,
  GeoJsonError,
  toFeatureCollection,
} from "../../../protocol/geofence-geojson.ts";
import type { FenceShape, Geofence } from "../../../protocol/geofence.ts";
import { CliError, type Cli } from "./usage.ts";

/** `geofence add|list|remove|import|export …` */
export async function geofenceCommand(cli: Cli, [verb, ...args]: string[]): Promise<void> {
  const { geofences } = cli.services;
  const { options, print } = cli;
  if (verb === "add" && args.length === 0) {
    if (options.name === undefined) throw new CliError("geofence add needs --name NAME");
    const fence = await geofences.create({
      name: options.name,
      shape: shapeFromFlags(options),
      ...(options.color !== undefined ? { color: options.color } : {}),
      ...(options["speed-limit"] !== undefined
        ? { speedLimit: number("--speed-limit", options["speed-limit"]) / 3.6 }
        : {}),
    });
    print(fence, `geofence ${fence.id} "${fence.name}" added`);
  } else if (verb === "list" && args.length === 0) {
    const all = geofences.list();
    print({ geofences: all }, all.map(describe).join("\n") || "no geofences");
  } else if (verb === "remove" && args.length === 1) {
    const fence = byIdOrName(geofences.list(), args[0]!);
    await geofences.remove(fence.id);
    print({ removed: fence.id }, `geofence ${fence.id} "${fence.name}" removed`);
  } else if (verb === "import" && args.length === 1) {
    let parsed;
    try {
      parsed = fromGeoJson(JSON.parse(await readFile(args[0]!, "utf8")));
    } catch (err) {
      if (err instanceof GeoJsonError || err instanceof SyntaxError) {
        throw new CliError(`${args[0]}: ${err.message}`, false);
      }
      throw err;
    }
    const stored = await geofences.createAll(parsed.fences);
    print({ imported: stored.length }, `${stored.length} geofences imported`);
  } else if (verb === "export" && args.length <= 1) {
    const text = JSON.stringify(toFeatureCollection(geofences.list()), null, 2);
    if (args[0]) {
      await writeFile(args[0], text + "\n");
      console.error(`${geofences.list().length} geofences written to ${args[0]}`);
    } else console.log(text);
  } else {
    throw new CliError(`unknown command "geofence ${[verb, ...args].join(" ")}"`);
  }
}

function shapeFromFlags(options: Cli["options"]): FenceShape {
  const given = (["circle", "polygon", "corridor"] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (given.length !== 1)
    throw new CliError("geofence add needs one of --circle, --polygon, --corridor");
  if (options.circle !== undefined) {
    const [lat, lon, radius] = numbers("--circle", options.circle, 3);
    return { type: "circle", center: { lat: lat!, lon: lon! }, radius: radius! };
  }
  if (options.polygon !== undefined)
    return { type: "polygon", ring: points("--polygon", options.polygon) };
  if (options.width === undefined) throw new CliError("--corridor needs --width METRES");
  return {
    type: "corridor",
    line: points("--corridor", options.corridor!),
    width: number("--width", options.width),
  };
}

/** "LAT,LON;LAT,LON;…" */
function points(flag: string, value: string) {
  return value.split(";").map((pair) => {
    const [lat, lon] = numbers(flag, pair, 2);
    return { lat: lat!, lon: lon! };
  });
}

function numbers(flag: string, value: string, count: number): number[] {
  const parts = value.split(",").map((p) => p.trim());
  if (parts.length !== count) {
    throw new CliError(`${flag}: "${value}" must be ${count} numbers separated by commas`, false);
  }
  return parts.map((p) => number(flag, p));
}

function number(flag: string, value: string): number {
  if (!/^-?\d+(\.\d+)?$/.test(value))
    throw new CliError(`${flag}: "${value}" is not a number`, false);
  return Number(value);
}

function byIdOrName(fences: Geofence[], key: string): Geofence {
  const found = fences.find((f) => String(f.id) === key || f.name === key);
  if (!found) throw new CliError(`no geofence "${key}"`, false);
  return found;
}

function describe(f: Geofence): string {
  const s = f.shape;
  const shape =
    s.type === "circle"
      ? `circle ${s.center.lat},${s.center.lon} r=${s.radius} m`
      : s.type === "polygon"
        ? `polygon of ${s.ring.length} vertices`
        : `corridor of ${s.line.length} points, ${s.width} m wide`;
  const limit = f.speedLimit === null ? "" : `, limit ${Math.round(f.speedLimit * 3.6)} km/h`;
  return `${f.id}\t${f.name}\t${shape}${limit}`;
}
