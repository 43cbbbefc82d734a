import { describe, expect, it } from "vitest";
import { formatSpeed } from "../../web/src/lib/format.ts";

describe("formatSpeed: every speed on screen, live and history", () => {
  it.each([
    [0, "0 km/h"],
    [0.4, "1 km/h"],
    [2.5, "9 km/h"],
    [4.44, "16 km/h"],
    [20, "72 km/h"],
    [41.7, "150 km/h"],
  ])("%d m/s reads %s: whole km/h whether parked, crawling or fast", (mps, shown) => {
    expect(formatSpeed(mps)).toBe(shown);
  });

  it("shows a dash when there is no speed", () => {
    expect(formatSpeed(undefined)).toBe("—");
    expect(formatSpeed(null)).toBe("—");
  });
});
