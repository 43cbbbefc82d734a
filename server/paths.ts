import { fileURLToPath } from "node:url";

/** Absolute paths of the repository parts the server touches, independent of the working dir. */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DIST_DIR = fileURLToPath(new URL("../dist", import.meta.url));
export const WEB_DIR = fileURLToPath(new URL("../web", import.meta.url));
export const VITE_CONFIG = fileURLToPath(new URL("../vite.config.ts", import.meta.url));
