import { createWriteStream } from "node:fs";
import { parseSettings, USAGE, UsageError, type Settings } from "./cli-flags.ts";
import { startFleet } from "./fleet.ts";
import type { FleetLogger } from "./fleet-log.ts";
import type { FleetStats } from "./fleet-stats.ts";
import { startGpxReplay } from "./gpx-replay.ts";

/**
 * `npm run simulate -- --vehicles 200 --url http://localhost:3000`: a simulated fleet against any
 * Locus server. Only output lives here: cli-flags.ts reads the flags, the fleet does the work.
 */

function statusLine(s: FleetStats): string {
  return (
    `${s.connected}/${s.vehicles} connected · sent ${s.sentPerSec.toFixed(0)}/s · ` +
    `acked ${s.ackedPerSec.toFixed(0)}/s · buffered ${s.buffered} · errors ${s.errors}`
  );
}

async function main(): Promise<number> {
  let settings: Settings | "help";
  try {
    settings = parseSettings(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`simulate: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (settings === "help") {
    process.stdout.write(USAGE);
    return 0;
  }

  if (settings.gpx) return replay(settings, settings.gpx);

  const tty = process.stdout.isTTY === true;
  let statusShown = false;
  // Log lines must not land in the middle of the rewritten status line.
  const clearStatus = () => {
    if (tty && statusShown) process.stdout.write("\r\x1b[K");
    statusShown = false;
  };
  const logger: FleetLogger = {
    info(message) {
      clearStatus();
      console.log(message);
    },
    warn(message) {
      clearStatus();
      console.warn(`warning: ${message}`);
    },
    error(message) {
      clearStatus();
      console.error(`error: ${message}`);
    },
  };
  const { token, tokens } = settings;
  const log = settings.log ? createWriteStream(settings.log, { flags: "a" }) : null;
  const fleet = startFleet({
    url: settings.url,
    vehicles: settings.vehicles,
    intervalMs: settings.intervalMs,
    seed: settings.seed,
    center: settings.center,
    prefix: settings.prefix,
    durationMs: settings.durationMs,
    token: tokens ? (id) => tokens[id] ?? token : token === undefined ? undefined : () => token,
    logger,
    onFix: log
      ? (deviceId, fix) => log.write(`${JSON.stringify({ deviceId, ...fix })}\n`)
      : undefined,
  });

  const status = setInterval(
    () => {
      const line = statusLine(fleet.stats());
      if (tty) {
        process.stdout.write(`\r\x1b[K${line}`);
        statusShown = true;
      } else {
        console.log(line);
      }
    },
    tty ? 1000 : 5000,
  );

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C means now
    clearStatus();
    console.log(`${signal}: stopping (sending what is buffered, Ctrl-C again to quit at once)`);
    void fleet.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const summary = await fleet.done;
  clearInterval(status);
  if (log) await new Promise((resolve) => log.end(resolve));
  clearStatus();
  const seconds = summary.durationMs / 1000;
  console.log(
    [
      `summary after ${seconds.toFixed(1)} s, ${summary.vehicles} vehicles:`,
      `  sent        ${summary.sent} (${summary.pushed} positions generated)`,
      `  acked       ${summary.acked} (${summary.accepted} accepted)`,
      `  duplicates  ${summary.duplicates}`,
      `  rejected    ${summary.rejected}`,
      `  dropped     ${summary.dropped}`,
      `  unacked     ${summary.unacked}${summary.flushed ? "" : " (server did not confirm in time)"}`,
      `  errors      ${summary.errors}`,
      `  max wait    ${summary.maxWaitMs} ms (push to ack)`,
    ].join("\n"),
  );
  return 0;
}

async function replay(settings: Settings, gpx: NonNullable<Settings["gpx"]>): Promise<number> {
  const { token, tokens } = settings;
  const log = settings.log ? createWriteStream(settings.log, { flags: "a" }) : null;
  console.log(`replaying ${gpx.file} as ${gpx.deviceId} at ${gpx.speedup}× to ${settings.url}`);
  const run = startGpxReplay({
    url: settings.url,
    deviceId: gpx.deviceId,
    token: tokens?.[gpx.deviceId] ?? token,
    file: gpx.file,
    speedup: gpx.speedup,
    onWarning: (message) => console.warn(`warning: ${message}`),
    onFix: log
      ? (fix) => log.write(`${JSON.stringify({ deviceId: gpx.deviceId, ...fix })}\n`)
      : undefined,
  });
  const onSignal = () => void run.stop();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const summary = await run.done;
    const s = summary.stats;
    console.log(
      `replayed ${summary.sent} points (${(summary.recordedMs / 1000).toFixed(1)} s recorded) ` +
        `in ${(summary.playedMs / 1000).toFixed(1)} s: ${s.accepted} accepted, ` +
        `${s.duplicates} duplicates, ${s.rejected} rejected, ${summary.skipped} skipped` +
        (summary.flushed ? "" : ", some unacknowledged when closing"),
    );
    return summary.flushed ? 0 : 1;
  } catch (err) {
    console.error(`simulate: ${gpx.file}: ${(err as Error).message}`);
    return 1;
  } finally {
    if (log) await new Promise((resolve) => log.end(resolve));
  }
}

process.exitCode = await main();
