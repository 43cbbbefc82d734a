import { readFileSync, writeFileSync } from "node:fs";
import { configTable, README_PATH, withTable } from "./readme-table.ts";

/** `npm run docs:config`: rewrite README.md's configuration table from the schema. */
const before = readFileSync(README_PATH, "utf8");
const after = withTable(before, await configTable());
if (after === before) {
  console.log("README.md: the configuration table already matches server/config/schema.ts");
} else {
  writeFileSync(README_PATH, after);
  console.log("README.md: configuration table rewritten from server/config/schema.ts");
}
