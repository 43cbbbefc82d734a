import { describe, expect, it } from "vitest";
import type { NotificationRule } from "../../protocol/notifications.ts";
import { parseHours } from "../../server/transports/cli/hours.ts";
import { HttpError } from "../../web/src/lib/api.ts";
import { draftOf, ruleBody, ruleText, slotOf } from "../../web/src/lib/notifications/rule-form.ts";

/**
 * How a rule is written by hand (the CLI's --hours) and by the dashboard's form, and where the
 * server's error about it is shown.
 */
describe("--hours", () => {
  it("reads days as a range or a list, the window and the zone", () => {
    expect(parseHours("Mon-Fri 08:00-18:00 Europe/Paris")).toEqual({
      days: [1, 2, 3, 4, 5],
      from: "08:00",
      to: "18:00",
      timeZone: "Europe/Paris",
    });
    expect(parseHours("sat-mon 22:00-6:00 UTC")).toMatchObject({
      days: [6, 7, 1],
      from: "22:00",
      to: "06:00",
    });
    expect(parseHours("Mon,Wednesday,Fri 00:00-24:00 UTC").days).toEqual([1, 3, 5]);
  });

  it("leaves out the days (every day) and takes this machine's zone when none is given", () => {
    const hours = parseHours("08:00-18:00");
    expect(hours).not.toHaveProperty("days");
    expect(hours.timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it("names the flag for words it cannot read", () => {
    expect(() => parseHours("Funday 08:00-18:00")).toThrow(/--hours: "funday" is not a day/);
    expect(() => parseHours("Mon 8-18")).toThrow(/--hours: must be "\[DAYS\] HH:MM-HH:MM/);
    expect(() => parseHours("Mon Tue 08:00-18:00")).toThrow(/--hours: must be/);
    expect(() => parseHours("08:00-18:00 UTC extra")).toThrow(/--hours: must be/);
  });
});

describe("the rule form", () => {
  const rule: NotificationRule = {
    id: 4,
    name: "night",
    types: ["alarm"],
    devices: ["van-1"],
    groups: ["north"],
    geofences: [3],
    hours: { days: [5, 1], from: "22:00", to: "06:00", timeZone: "Europe/Berlin" },
    webhooks: [2],
    push: true,
    createdAt: 0,
    updatedAt: 0,
  };

  it("sends back what it was given, ids as numbers and days in order", () => {
    expect(ruleBody(draftOf(rule))).toEqual({
      name: "night",
      types: ["alarm"],
      devices: ["van-1"],
      groups: ["north"],
      geofences: [3],
      hours: { days: [1, 5], from: "22:00", to: "06:00", timeZone: "Europe/Berlin" },
      webhooks: [2],
      push: true,
    });
  });

  it("starts a new rule at any time, in the browser's zone if hours are turned on", () => {
    const draft = draftOf(null);
    expect(ruleBody(draft).hours).toBeNull();
    draft.limitHours = true;
    expect(ruleBody(draft).hours).toEqual({
      days: [1, 2, 3, 4, 5],
      from: "08:00",
      to: "18:00",
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
  });

  it("puts the server's error at the control of the field it names", () => {
    const error = (field: string | undefined) =>
      new HttpError(400, `${field}: must name at least one`, "bad_request", field);
    expect(slotOf(error("webhooks.0"))).toBe("webhooks");
    expect(slotOf(error("webhooks"))).toBe("webhooks");
    expect(slotOf(error("hours.days.2"))).toBe("hours.days");
    expect(slotOf(error("hours.to"))).toBe("hours.to");
    expect(slotOf(error("body"))).toBeNull();
    expect(slotOf(error(undefined))).toBeNull();
    expect(slotOf(new Error("offline"))).toBeNull();
    expect(ruleText(error("webhooks"))).toBe("must name at least one");
  });
});
