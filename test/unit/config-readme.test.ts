import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configTable, README_PATH, tableIn } from "../../server/config/readme-table.ts";

describe("README.md configuration table", () => {
  it("is the one the schema generates", async () => {
    const readme = readFileSync(README_PATH, "utf8");
    expect(
      tableIn(readme),
      "README.md's configuration table differs from server/config/schema.ts: run `npm run docs:config`",
    ).toBe(await configTable());
  });
});
