import { deviceIdFor, startFleet } from "../simulator/fleet.ts";
import { helpText } from "./config.ts";
import {
  closeOnSignals,
  configFromCommandLine,
  exitOnConfigError,
  exitWithHelpIfAsked,
} from "./lifecycle.ts";
import { createLogger } from "./logger.ts";
import { VITE_CONFIG } from "./paths.ts";
import { startLocus } from "./start.ts";

/**
 * `npm run demo`: the server with its embedded defaults plus a simulated fleet, so a newcomer sees
 * vehicles move at once. `npm run dev` is the same with Vite's hot-reloading dashboard in front.
 * Own flags: `--vehicles N` (default 50, 0 for none) and `--dev`; every other flag is the server's;
 * `--help` lists both.
 */
const argv = process.argv.slice(2);
exitWithHelpIfAsked(argv, () =>
  helpText("npm run demo -- [--vehicles N] [--dev] [server flags]", {
    title: "Demo flags",
    flags: [
      { flag: "--vehicles N", description: "simulated vehicles to drive (default 50, 0 for none)" },
      {
        flag: "--dev",
        description:
          "serve the dashboard through Vite with hot reloading (npm run dev); without it the " +
          "built dashboard is served, built first when stale",
      },
    ],
  }),
);
const dev = takeFlag(argv, "--dev") !== undefined;
const vehicles = Number(takeFlag(argv, "--vehicles", true) ?? 50);
if (!Number.isInteger(vehicles) || vehicles < 0) {
  console.error("demo: --vehicles must be a whole number ≥ 0");
  process.exit(2);
}

const config = { ...configFromCommandLine(argv), buildIfStale: !dev };
const logger = createLogger(config.logLevel);
const running = await startLocus(config, { logger }).catch(exitOnConfigError);
const fleetUrl = `http://127.0.0.1:${running.port}`;
// The demo provisions its simulated devices itself, so the two-command start works while device
// tokens stay enforced. Tokens are re-issued every run; none is ever written anywhere.
const tokens = new Map<string, string>();
for (let i = 1; i <= vehicles; i++) {
  const id = deviceIdFor("sim-", i);
  tokens.set(id, (await running.services.devices.register({ deviceId: id })).token);
}
const fleet =
  vehicles > 0
    ? startFleet({
        url: fleetUrl,
        vehicles,
        intervalMs: 1000,
        seed: 1,
        token: (id) => tokens.get(id),
      })
    : null;

let url = running.url;
let closeVite: () => Promise<void> = async () => {};
if (dev) {
  // vite.config.ts reads this to proxy /api and /socket.io to the server just started.
  process.env.LOCUS_DEV_API = fleetUrl;
  const { createServer } = await import("vite");
  const vite = await createServer({ configFile: VITE_CONFIG });
  await vite.listen();
  url = vite.resolvedUrls?.local[0] ?? "http://localhost:5173";
  closeVite = () => vite.close();
}
logger.info(
  { url, vehicles, db: config.db },
  `Locus ${dev ? "dev" : "demo"} is running: open ${url}${vehicles ? ` to watch ${vehicles} vehicles` : ""}`,
);
closeOnSignals(running, logger, async () => {
  await fleet?.stop();
  await closeVite();
});

/** Remove `--name` (and its value when `withValue`) from argv, returning the value or "" if present. */
function takeFlag(args: string[], name: string, withValue = false): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const [arg] = args.splice(i, 1);
  if (!withValue) return "";
  if (arg!.includes("=")) return arg!.slice(name.length + 1);
  return args.splice(i, 1)[0];
}
