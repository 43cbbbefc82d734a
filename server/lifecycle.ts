import { ConfigError, loadConfig, type Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { RunningLocus } from "./start.ts";

/** Read the config from argv and the environment; a bad value ends the process with its reason. */
export function configFromCommandLine(argv = process.argv.slice(2)): Readonly<Config> {
  try {
    return loadConfig(argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`locus: ${err.message}\nSee the configuration table in README.md.`);
    process.exit(2);
  }
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
