import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

const webRoot = fileURLToPath(new URL("./web", import.meta.url));
/** Where `npm run dev` finds the API server it proxies to. */
const apiTarget = process.env.LOCUS_DEV_API ?? "http://localhost:3000";

export default defineConfig({
  root: webRoot,
  plugins: [svelte({ configFile: false })],
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    // Leaflet alone is ~150 kB; one chunk keeps the first paint to two requests.
    chunkSizeWarningLimit: 600,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": apiTarget,
      "/socket.io": { target: apiTarget, ws: true },
    },
  },
});
