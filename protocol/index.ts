export * from "./api.ts";
export * from "./events.ts";
export * from "./position.ts";
export * from "./validate.ts";
export * from "./history.ts";
