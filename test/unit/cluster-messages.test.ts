import { describe, expect, it } from "vitest";
import { readDeviceMessage, readFeedsEnd, readFixes } from "../../server/cluster/messages.ts";
import { accessChange, type User } from "../../server/services/access.ts";

// What one cluster node accepts from another: well-formed messages in, anything else dropped.

describe("cluster messages", () => {
  const fix = { ts: 1_796_000_000_000, lat: 52.5, lon: 13.4, speed: 8 };

  it("takes fixes entries, dropping only the malformed parts", () => {
    const { entries, dropped } = readFixes([
      ["truck-1", 1_796_000_000_500, [fix, { ts: "soon", lat: 1, lon: 1 }, { ...fix, lat: 91 }]],
      ["bad id!", 1, [fix]],
      ["van-9", null, []],
      ["short"],
    ]);
    expect(entries).toEqual([
      ["truck-1", 1_796_000_000_500, [fix]],
      ["van-9", null, []],
    ]);
    expect(dropped).toBe(4);
    expect(readFixes({ not: "a list" })).toEqual({ entries: [], dropped: 1 });
  });

  it("copies only the known fields of a fix, turning the wire's nulls back into absent fields", () => {
    const raw = { ...fix, course: null, alt: undefined, extra: "x", attributes: { a: 1, b: {} } };
    const [[, , [p]]] = readFixes([["truck-1", 1, [raw]]]).entries as [[string, number, unknown[]]];
    expect(p).toEqual({ ...fix, attributes: { a: 1 } });
    expect(readFixes([["truck-1", 1, [{ ...fix, speed: "fast" }]]]).dropped).toBe(1);
  });

  it("takes device changes and ended feeds only with known kinds and valid names", () => {
    expect(readDeviceMessage({ type: "removed", deviceId: "truck-1" })).toEqual({
      type: "removed",
      deviceId: "truck-1",
    });
    expect(readDeviceMessage({ type: "exploded", deviceId: "truck-1" })).toBeNull();
    expect(readDeviceMessage({ type: "added", deviceId: "x".repeat(65) })).toBeNull();
    expect(readFeedsEnd({ user: "vera", why: "signed_out" })).toEqual({
      user: "vera",
      why: "signed_out",
    });
    expect(readFeedsEnd({ user: "vera", why: "because" })).toBeNull();
    expect(readFeedsEnd(null)).toBeNull();
  });
});

describe("accessChange", () => {
  const vera: User = {
    id: 2,
    name: "vera",
    role: "viewer",
    grant: { all: false, devices: new Set(["truck-1"]), groups: new Set(["north"]) },
  };
  const regranted = (grant: Partial<User["grant"]>): User => ({
    ...vera,
    grant: { ...vera.grant, ...grant },
  });

  it("says how a user's access changed since a feed started", () => {
    expect(accessChange(vera, { ...vera, grant: { ...vera.grant } })).toBeNull();
    expect(accessChange(vera, null)).toBe("signed_out");
    expect(accessChange(vera, { ...vera, role: "admin" })).toBe("access_changed");
    expect(accessChange(vera, regranted({ devices: new Set(["van-9"]) }))).toBe("access_changed");
    expect(accessChange(vera, regranted({ groups: new Set() }))).toBe("access_changed");
    expect(accessChange(vera, regranted({ all: true }))).toBe("access_changed");
  });
});
