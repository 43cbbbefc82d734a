import { describe, expect, it } from "vitest";
import { SPEED_BANDS } from "../../web/src/lib/history/speed-scale.ts";
import { deltaE2000, labAs, type Lab, type Vision } from "../support/color-vision.ts";

const VISIONS: Vision[] = ["normal", "protanopia", "deuteranopia", "tritanopia"];
/** ΔE2000 at which two thin lines on a map read as different colours at a glance. */
const DISTINCT = 10;

describe("colour-vision check (support/color-vision.ts)", () => {
  it("matches Sharma, Wu & Dalal's CIEDE2000 test pairs", () => {
    const pairs: [Lab, Lab, number][] = [
      [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
      [[50, -1.3802, -84.2814], [50, 0, -82.7485], 1.0],
      [[50, 2.5, 0], [73, 25, -18], 27.1492],
      [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
      [[22.7233, 20.0904, -46.694], [23.0331, 14.973, -42.5619], 2.0373],
    ];
    for (const [a, b, expected] of pairs) expect(deltaE2000(a, b)).toBeCloseTo(expected, 3);
  });

  it("tells the old 30–50 and 50–80 colours apart only with full colour vision", () => {
    // Teal #0d9488 against green #16a34a: the complaint.
    const difference = (vision: Vision) =>
      deltaE2000(labAs("#0d9488", vision), labAs("#16a34a", vision));
    expect(difference("normal")).toBeGreaterThan(DISTINCT);
    expect(difference("tritanopia")).toBeLessThan(DISTINCT / 2);
  });
});

describe("speed colours", () => {
  it.each(VISIONS)("are told apart, every pair, with %s", (vision) => {
    const labs = SPEED_BANDS.map((band) => labAs(band.color, vision));
    for (let i = 0; i < labs.length; i++) {
      for (let j = i + 1; j < labs.length; j++) {
        const pair = `${SPEED_BANDS[i]!.label} vs ${SPEED_BANDS[j]!.label}`;
        expect(deltaE2000(labs[i]!, labs[j]!), pair).toBeGreaterThanOrEqual(DISTINCT);
      }
    }
  });

  it.each(VISIONS)("get lighter with speed, with %s, so the legend reads as a scale", (vision) => {
    const lightness = SPEED_BANDS.map((band) => labAs(band.color, vision)[0]);
    for (let i = 1; i < lightness.length; i++)
      expect(lightness[i]!).toBeGreaterThan(lightness[i - 1]! + 5);
  });
});
