import { ConfigError, helpText, loadConfig, wantsHelp, type Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { RunningLocus } from "./start.ts";

/** With `--help` or `-h` in argv, print `help()` and exit 0 before anything starts. */
export function exitWithHelpIfAsked(argv: readonly string[], help: () => string): void {
  if (!wantsHelp(argv)) return;
  // Synchronous for files and pipes on POSIX, so nothing is lost to the exit.
  process.stdout.write(help());
  process.exit(0);
}

/**
 * Read the config from argv and the environment. `--help` prints every setting and exits 0; a bad
 * value ends the process with its reason.
 */
export function configFromCommandLine(argv = process.argv.slice(2)): Readonly<Config> {
  exitWithHelpIfAsked(argv, () =>
    helpText("npm start -- [flags]   (or: node --import tsx server/main.ts [flags])"),
  );
  try {
    return loadConfig(argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`locus: ${err.message}\nRun with --help to list every setting.`);
    process.exit(2);
  }
}

/**
 * For a start that failed on a setting only known to be wrong once tried (an unreachable
 * `--redis-url`): say so in one line and exit 2, as for a bad value. Anything else is rethrown.
 */
export function exitOnConfigError(err: unknown): never {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`locus: ${err.message}`);
  process.exit(2);
}

/** On SIGINT/SIGTERM: finish committing, ack, disconnect, exit. A second signal exits at once. */
export function closeOnSignals(running: RunningLocus, logger: Logger, also?: () => Promise<void>) {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, "shutting down");
    void (async () => {
      await also?.();
      await running.close();
      logger.info("stopped");
      process.exit(0);
    })();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
