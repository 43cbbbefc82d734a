import { describe, expect, it } from "vitest";
import type { FleetEvent } from "../../protocol/geofence.ts";
import { base64urlBytes } from "../../protocol/push.ts";
import { browserLabel, pushPayload } from "../../server/services/push.ts";

const event = (type: FleetEvent["type"], details: FleetEvent["details"]): FleetEvent => ({
  id: 9,
  deviceId: "van 7",
  type,
  ts: 1_800_000_000_000,
  lat: 52.5,
  lon: 13.4,
  geofenceId: null,
  details,
});

describe("browser notifications' words", () => {
  it("says what happened, to which vehicle, and links to it", () => {
    const named = { name: "Van Seven" };
    expect(pushPayload(event("geofence_enter", { name: "Depot" }), named)).toEqual({
      title: "Van Seven · Entered",
      body: "Entered Depot",
      eventId: 9,
      eventType: "geofence_enter",
      deviceId: "van 7",
      ts: 1_800_000_000_000,
      url: "/?device=van%207",
    });
    const unnamed = { name: null };
    const words = (e: FleetEvent) => {
      const p = pushPayload(e, unnamed);
      return `${p.title} | ${p.body}`;
    };
    expect(words(event("geofence_exit", { name: "Depot" }))).toBe("van 7 · Left | Left Depot");
    expect(words(event("overspeed", { peak: 25 }))).toBe("van 7 · Speeding | Peak 90 km/h");
    expect(words(event("alarm", { alarm: "sos" }))).toBe("van 7 · Alarm | SOS");
    expect(words(event("alarm", { alarm: "tampering" }))).toBe("van 7 · Alarm | Alarm: tampering");
    expect(words(event("battery_low", { battery: 9.6 }))).toBe(
      "van 7 · Low battery | Battery at 10 %",
    );
    const tenMinutesBefore = 1_800_000_000_000 - 600_000;
    expect(words(event("offline", { lastFixAt: tenMinutesBefore }))).toBe(
      "van 7 · Offline | No fix for 10 min",
    );
    expect(words(event("online", { offlineS: 3600 }))).toBe(
      "van 7 · Online | After 60 min offline",
    );
    expect(words(event("stopped", {}))).toBe("van 7 · Stopped | Stopped");
    expect(words(event("moving", { stoppedS: 20 }))).toBe("van 7 · Moving | After 1 min stopped");
  });

  it("labels a subscription by browser and system, from the User-Agent", () => {
    const chrome =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";
    expect(browserLabel(chrome)).toBe("Chrome on Linux");
    expect(
      browserLabel(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
      ),
    ).toBe("Firefox on Windows");
    expect(
      browserLabel(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
      ),
    ).toBe("Safari on iOS");
    expect(browserLabel(undefined)).toBe("A browser");
  });

  it("counts the bytes of base64url keys, padded or not", () => {
    expect(base64urlBytes(Buffer.alloc(65, 4).toString("base64url"))).toBe(65);
    expect(base64urlBytes(Buffer.alloc(16, 1).toString("base64"))).toBe(16);
    expect(base64urlBytes("abc$")).toBe(-1);
    expect(base64urlBytes("abcde")).toBe(-1); // 5 characters cannot end a base64 text
  });
});
