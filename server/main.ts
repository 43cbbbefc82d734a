import { closeOnSignals, configFromCommandLine, exitOnConfigError } from "./lifecycle.ts";
import { createLogger } from "./logger.ts";
import { startLocus } from "./start.ts";

/** `npm start`: the server alone, configured from flags and the environment. */
const config = configFromCommandLine();
const logger = createLogger(config.logLevel);
const running = await startLocus(config, { logger }).catch(exitOnConfigError);
logger.info({ url: running.url, db: config.db }, `Locus is listening on ${running.url}`);
closeOnSignals(running, logger);
