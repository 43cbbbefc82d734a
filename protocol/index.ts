export * from "./admin.ts";
export * from "./api.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./position.ts";
export * from "./validate.ts";
export * from "./history.ts";
