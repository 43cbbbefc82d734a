// The server's settings: declared once in config/schema.ts, everything else is derived from there.
export { configSchema, DEFAULT_CONFIG, type Config } from "./config/schema.ts";
export { SETTINGS, type Setting } from "./config/settings.ts";
export { ConfigError, loadConfig } from "./config/load.ts";
export { helpText, wantsHelp, type OwnFlag } from "./config/help.ts";
