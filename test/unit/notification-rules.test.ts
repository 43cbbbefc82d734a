import { describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import { ruleHoursSchema } from "../../protocol/notifications.ts";
import { localTime, ruleMatches, withinHours } from "../../server/services/notifications.ts";
import { isPrivateAddress } from "../../server/webhooks/http-sender.ts";

/** Which events a notification rule sends: types, devices and groups, fences, hours. */

const event = (over: Partial<FleetEvent> = {}): FleetEvent => ({
  id: 1,
  deviceId: "van",
  type: "geofence_enter",
  ts: Date.UTC(2026, 0, 5, 12, 0), // a Monday, 12:00 UTC
  lat: 0,
  lon: 0,
  geofenceId: 7,
  details: {},
  ...over,
});

const any = { types: [], devices: [], groups: [], geofences: [], hours: null };
const groups = (id: string) => (id === "van" ? ["fleet"] : []);
const hours = (h: unknown) => ruleHoursSchema.parse(h);

describe("ruleMatches", () => {
  it("takes empty lists as any, and every non-empty one as a condition", () => {
    expect(ruleMatches(any, event(), groups)).toBe(true);
    expect(ruleMatches({ ...any, types: ["overspeed"] }, event(), groups)).toBe(false);
    expect(ruleMatches({ ...any, types: ["overspeed", "geofence_enter"] }, event(), groups)).toBe(
      true,
    );
    expect(ruleMatches({ ...any, geofences: [7] }, event(), groups)).toBe(true);
    expect(ruleMatches({ ...any, geofences: [8] }, event(), groups)).toBe(false);
    expect(ruleMatches({ ...any, geofences: [7] }, event({ geofenceId: null }), groups)).toBe(
      false,
    );
  });

  it("names devices by id or by group, either one enough", () => {
    expect(ruleMatches({ ...any, devices: ["van"] }, event(), groups)).toBe(true);
    expect(ruleMatches({ ...any, devices: ["car"] }, event(), groups)).toBe(false);
    expect(ruleMatches({ ...any, groups: ["fleet"] }, event(), groups)).toBe(true);
    expect(ruleMatches({ ...any, groups: ["fleet"] }, event({ deviceId: "car" }), groups)).toBe(
      false,
    );
    expect(
      ruleMatches(
        { ...any, devices: ["car"], groups: ["fleet"] },
        event({ deviceId: "car" }),
        groups,
      ),
    ).toBe(true);
  });
});

describe("hours", () => {
  it("reads the day and time in the rule's zone, daylight saving included", () => {
    expect(localTime(Date.UTC(2026, 0, 5, 12, 0), "UTC")).toEqual({ day: 1, minute: 720 });
    // Berlin is UTC+1 in January, UTC+2 in July.
    expect(localTime(Date.UTC(2026, 0, 5, 23, 30), "Europe/Berlin")).toEqual({
      day: 2,
      minute: 30,
    });
    expect(localTime(Date.UTC(2026, 6, 5, 12, 0), "Europe/Berlin")).toEqual({
      day: 7,
      minute: 14 * 60,
    });
  });

  it("applies a window on its days, from included, to excluded", () => {
    const office = hours({ days: [1, 2, 3, 4, 5], from: "08:00", to: "18:00" });
    expect(withinHours(office, Date.UTC(2026, 0, 5, 8, 0))).toBe(true);
    expect(withinHours(office, Date.UTC(2026, 0, 5, 17, 59))).toBe(true);
    expect(withinHours(office, Date.UTC(2026, 0, 5, 18, 0))).toBe(false);
    expect(withinHours(office, Date.UTC(2026, 0, 5, 7, 59))).toBe(false);
    expect(withinHours(office, Date.UTC(2026, 0, 4, 12, 0))).toBe(false); // Sunday
    const allDay = hours({ from: "00:00", to: "24:00" });
    expect(withinHours(allDay, Date.UTC(2026, 0, 4, 23, 59))).toBe(true);
  });

  it("runs a window past midnight as part of the day it starts on", () => {
    // Friday and Saturday nights in Berlin.
    const nights = hours({ days: [5, 6], from: "22:00", to: "06:00", timeZone: "Europe/Berlin" });
    const berlin = (day: number, h: number, m = 0) => Date.UTC(2026, 0, day, h - 1, m);
    expect(withinHours(nights, berlin(9, 22))).toBe(true); // Friday 22:00
    expect(withinHours(nights, berlin(10, 3))).toBe(true); // Saturday 03:00, Friday's night
    expect(withinHours(nights, berlin(11, 3))).toBe(true); // Sunday 03:00, Saturday's night
    expect(withinHours(nights, berlin(11, 22))).toBe(false); // Sunday 22:00
    expect(withinHours(nights, berlin(12, 3))).toBe(false); // Monday 03:00, Sunday's night
    expect(withinHours(nights, berlin(10, 6))).toBe(false); // Saturday 06:00
    expect(withinHours(nights, berlin(10, 12))).toBe(false);
  });

  it("refuses a window that is not one, naming the field", () => {
    const field = (h: unknown) => ruleHoursSchema.safeParse(h).error?.issues[0]?.path.join(".");
    expect(field({ from: "07:00", to: "07:00" })).toBe("to");
    expect(field({ from: "24:00", to: "07:00" })).toBe("from");
    expect(field({ from: "7:00", to: "09:00" })).toBe("from");
    expect(field({ from: "07:00", to: "09:00", days: [] })).toBe("days");
    expect(field({ from: "07:00", to: "09:00", days: [1, 1] })).toBe("days");
    expect(field({ from: "07:00", to: "09:00", timeZone: "Europe/Nowhere" })).toBe("timeZone");
    expect(field({ from: "07:00", to: "09:00" })).toBeUndefined();
  });
});

describe("isPrivateAddress", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["10.0.0.1", true],
    ["172.16.5.4", true],
    ["172.32.0.1", false],
    ["192.168.0.1", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["224.0.0.1", true],
    ["::1", true],
    ["::", true],
    ["fe80::1", true],
    ["fd12:3456::1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:10.0.0.1", true],
    ["64:ff9b::7f00:1", true],
    ["8.8.8.8", false],
    ["93.184.216.34", false],
    ["2606:4700:4700::1111", false],
    ["::ffff:8.8.8.8", false],
    ["not an address", true],
  ])("%s: %s", (address, refused) => {
    expect(isPrivateAddress(address)).toBe(refused);
  });
});
