import { describe, expect, it } from "vitest";
import { HttpError } from "../../web/src/lib/api.ts";
import { grantText, grantTitle, removalQuestion } from "../../web/src/lib/admin-text.ts";
import { AdminAction } from "../../web/src/lib/state/admin-action.svelte.ts";

describe("admin panel sentences", () => {
  it("asks before removing a device, naming how many positions go with it", () => {
    // Grouped in the runtime's locale, as the browser groups it in the user's.
    expect(removalQuestion("sim-0001", 12_345)).toBe(
      `Remove sim-0001 and its ${(12_345).toLocaleString()} positions? This cannot be undone.`,
    );
    expect(removalQuestion("van", 1)).toBe("Remove van and its 1 position? This cannot be undone.");
    expect(removalQuestion("spare", 0)).toBe(
      "Remove spare? It has no stored positions. This cannot be undone.",
    );
  });

  it("sums up a user's grants: devices, then groups, which are moot beside all devices", () => {
    expect(grantText({ devices: "all", groups: ["north"] })).toBe("All devices");
    expect(grantText({ devices: [], groups: [] })).toBe("No devices");
    expect(grantText({ devices: [], groups: ["north"] })).toBe("group north");
    expect(grantText({ devices: ["a", "b", "c", "d"], groups: ["north", "south"] })).toBe(
      "a, b, c + 1 more; groups north, south",
    );
    expect(grantTitle({ devices: ["a", "b", "c", "d"], groups: ["north"] })).toBe(
      "Devices: a, b, c, d\nGroups: north",
    );
    expect(grantTitle({ devices: "all", groups: ["north"] })).toBeUndefined();
    expect(grantTitle({ devices: [], groups: [] })).toBeUndefined();
  });
});

describe("AdminAction", () => {
  it("reloads after the work and shows what it did with the reloaded list", async () => {
    const order: string[] = [];
    const action = new AdminAction(async () => {
      order.push(`reload (outcome then: ${JSON.stringify(action.outcome)})`);
    });
    await action.run(async () => {
      order.push("work");
      return "done";
    });
    expect(order).toEqual(["work", "reload (outcome then: null)"]);
    expect(action.outcome).toEqual({ text: "done", error: false });
    expect(action.busy).toBe(false);
  });

  it("shows the server's message when the work fails, and nothing for a null answer", async () => {
    const action = new AdminAction(async () => {});
    await action.run(async () => {
      throw new HttpError(409, 'a group named "north" already exists', "conflict");
    });
    expect(action.outcome).toEqual({ text: 'a group named "north" already exists', error: true });
    await action.run(async () => null);
    expect(action.outcome).toBeNull();
  });

  it("runs one action at a time", async () => {
    const action = new AdminAction(async () => {});
    let release!: () => void;
    const first = action.run(() => new Promise((resolve) => (release = () => resolve("first"))));
    let secondRan = false;
    await action.run(async () => {
      secondRan = true;
      return "second";
    });
    expect(action.busy).toBe(true);
    release();
    await first;
    expect(secondRan).toBe(false);
    expect(action.outcome?.text).toBe("first");
  });
});
