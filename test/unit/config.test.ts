import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CONFIG, loadConfig } from "../../server/config.ts";

describe("loadConfig", () => {
  it("uses the embedded defaults when nothing is set", () => {
    const config = loadConfig([], {});
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).toMatchObject({ port: 3000, db: "./data/locus.db" });
  });

  it("takes a flag over the environment, and the environment over the default", () => {
    const env = { PORT: "4000", LOCUS_DB: "/env.db", LOCUS_TICK_MS: "80" };
    const config = loadConfig(["--port", "5000", "--tick-ms=60"], env);
    expect(config).toMatchObject({ port: 5000, db: "/env.db", tickMs: 60 });
    expect(loadConfig([], env)).toMatchObject({ port: 4000, tickMs: 80 });
  });

  it("reads booleans from flags and environment", () => {
    expect(loadConfig(["--build-if-stale"], {}).buildIfStale).toBe(true);
    expect(loadConfig([], { LOCUS_BUILD_IF_STALE: "yes" }).buildIfStale).toBe(true);
  });

  it.each([
    [["--port", "http"], {}, /--port must be an integer/],
    [[], { PORT: "-1" }, /PORT must be ≥ 0/],
    [["--tick-ms", "5"], {}, /--tick-ms must be ≥ 10/],
    [["--moving-speed", "fast"], {}, /--moving-speed must be a number/],
    [[], { LOCUS_BUILD_IF_STALE: "maybe" }, /LOCUS_BUILD_IF_STALE must be true or false/],
    [["--colour", "red"], {}, /colour/],
  ])("fails fast on %j %j, naming the setting", (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(loadConfig([], {}))).toBe(true);
  });
});
