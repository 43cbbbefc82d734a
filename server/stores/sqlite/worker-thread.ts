import { Worker } from "node:worker_threads";

/**
 * Start a TypeScript worker script of the SQLite store. A worker does not inherit `--import tsx`'s
 * hooks: they are registered before the script loads, both resolved from this file rather than
 * the working directory, so Locus starts from anywhere.
 */
export function startStoreWorker(script: URL, workerData: unknown): Worker {
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
