import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fromLocalInput,
  matchPreset,
  presetRange,
  toLocalInput,
} from "../../web/src/lib/history/range.ts";
import {
  historyHash,
  historyHref,
  isHistoryHash,
  liveHref,
  parseHistoryHash,
} from "../../web/src/lib/history/url.ts";

// Presets follow the browser's time zone; Berlin has DST changes to test against.
const previousTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "Europe/Berlin";
});
afterAll(() => {
  process.env.TZ = previousTz;
});

const HOUR = 3_600_000;

describe("range presets in the local time zone", () => {
  it("today starts at local midnight, not UTC midnight", () => {
    const now = Date.parse("2026-06-10T09:30:00Z"); // 11:30 in Berlin (UTC+2)
    expect(presetRange("today", now)).toEqual({
      from: Date.parse("2026-06-09T22:00:00Z"),
      to: now,
    });
  });

  it("yesterday is the whole previous local day, 23 hours long on the spring DST change", () => {
    const now = Date.parse("2026-03-30T10:00:00Z");
    const { from, to } = presetRange("yesterday", now);
    expect(from).toBe(Date.parse("2026-03-28T23:00:00Z")); // midnight CET
    expect(to + 1).toBe(Date.parse("2026-03-29T22:00:00Z")); // midnight CEST
    expect(to + 1 - from).toBe(23 * HOUR);
  });

  it("last 7 days covers today and the six days before, from midnight", () => {
    const now = Date.parse("2026-06-10T09:30:00Z");
    expect(presetRange("last-7-days", now).from).toBe(Date.parse("2026-06-03T22:00:00Z"));
    expect(presetRange("last-hour", now)).toEqual({ from: now - HOUR, to: now });
  });

  it("recognises a preset range a minute later, and nothing for a custom one", () => {
    const made = Date.parse("2026-06-10T09:30:00Z");
    const later = made + 30_000;
    expect(matchPreset(presetRange("today", made), later)).toBe("today");
    expect(matchPreset(presetRange("yesterday", made), later)).toBe("yesterday");
    expect(matchPreset(presetRange("last-hour", made), later)).toBe("last-hour");
    expect(matchPreset({ from: made - 5 * HOUR, to: made - HOUR }, later)).toBeNull();
  });

  it("reads and writes datetime-local values in local time", () => {
    const t = Date.parse("2026-06-10T09:30:00Z");
    expect(toLocalInput(t)).toBe("2026-06-10T11:30");
    expect(fromLocalInput("2026-06-10T11:30")).toBe(t);
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("2026-06-10")).toBeNull();
  });
});

describe("history state in the URL hash", () => {
  const defaults = () => ({ from: 1, to: 2 });

  it("round-trips device, range and cursor", () => {
    const state = {
      device: "truck 1/ä",
      from: Date.parse("2026-06-10T06:00:00Z"),
      to: Date.parse("2026-06-10T18:00:00Z"),
      at: Date.parse("2026-06-10T07:15:30Z"),
    };
    const hash = historyHash(state);
    expect(hash).toMatch(/^#\/history\?device=truck\+1%2F%C3%A4&from=2026-06-10T06/);
    expect(isHistoryHash(hash)).toBe(true);
    expect(parseHistoryHash(hash, defaults)).toEqual(state);
  });

  it("accepts epoch ms as the API does", () => {
    expect(parseHistoryHash("#/history?device=a&from=1000&to=5000", defaults)).toEqual({
      device: "a",
      from: 1000,
      to: 5000,
      at: null,
    });
  });

  it("falls back to the default range for a missing, broken or reversed one", () => {
    for (const hash of [
      "#/history",
      "#/history?device=a&from=yesterday&to=5000",
      "#/history?device=a&from=5000&to=1000",
    ]) {
      expect(parseHistoryHash(hash, defaults)).toMatchObject({ from: 1, to: 2 });
    }
  });

  it("drops a cursor outside the range", () => {
    expect(parseHistoryHash("#/history?from=1000&to=5000&at=9000", defaults).at).toBeNull();
  });

  it("is not the history route for other hashes", () => {
    expect(isHistoryHash("")).toBe(false);
    expect(isHistoryHash("#/historyx")).toBe(false);
    expect(isHistoryHash("#/history?device=a")).toBe(true);
  });

  it("moves between the live view's ?device= and the history hash", () => {
    const history = historyHref("http://h/?device=a&x=1", { device: "b", from: 0, to: 1000 });
    expect(history).toBe(
      "http://h/?x=1#/history?device=b&from=1970-01-01T00%3A00%3A00.000Z&to=1970-01-01T00%3A00%3A01.000Z",
    );
    expect(liveHref(history, "b")).toBe("http://h/?x=1&device=b");
    expect(liveHref(history, null)).toBe("http://h/?x=1");
  });
});
