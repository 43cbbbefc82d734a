import { z } from "zod";

/**
 * The device wire contract: what a position is and the rules every inbound one must pass.
 * Types are derived from the schemas so the two can never drift.
 */

/** Fixes before 2000-01-01 are GPS week-rollover garbage or unset clocks, never real history. */
export const TS_FLOOR_MS = Date.UTC(2000, 0, 1);
export const MAX_BATCH = 1000;
export const MAX_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_KEY = 64;
export const MAX_ATTRIBUTE_STRING = 256;

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export const deviceIdSchema = z
  .string({ error: "must be a string" })
  .regex(DEVICE_ID_PATTERN, { error: "must be 1–64 characters of A–Z a–z 0–9 . _ : -" });

const finite = (what: string) => z.number({ error: `must be a finite number (${what})` });

const attributeValue = z.union([z.string().max(MAX_ATTRIBUTE_STRING), z.number(), z.boolean()], {
  error: `must be a string of at most ${MAX_ATTRIBUTE_STRING} characters, a finite number or a boolean`,
});

/** Keys that would reach an object's prototype machinery when assigned; never legitimate data. */
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

const attributeKey = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, {
    error: `keys must be 1–${MAX_ATTRIBUTE_KEY} characters of A–Z a–z 0–9 _ . : -`,
  })
  .refine((k) => !RESERVED_KEYS.has(k), {
    error: "keys must not be __proto__, constructor or prototype",
  });

// JSON.parse makes "__proto__" an own key, which zod's record would skip without a word: check
// the raw input first so such a key is rejected, never silently dropped.
const hasProtoKey = (v: unknown) =>
  typeof v === "object" && v !== null && Object.prototype.hasOwnProperty.call(v, "__proto__");

const attributes = z
  .unknown()
  .refine((v) => !hasProtoKey(v), { error: "keys must not be __proto__, constructor or prototype" })
  .pipe(
    z
      .record(attributeKey, attributeValue, {
        error: "must be a flat object of strings, numbers and booleans",
      })
      .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, {
        error: `must have at most ${MAX_ATTRIBUTES} keys`,
      }),
  );

export const positionSchema = z.strictObject(
  {
    ts: z
      .number({ error: "must be epoch milliseconds (a number)" })
      .int({ error: "must be an integer number of epoch milliseconds" })
      .min(TS_FLOOR_MS, { error: "must not be before 2000-01-01T00:00:00Z" })
      .max(Number.MAX_SAFE_INTEGER),
    lat: finite("degrees").min(-90, { error: "must be ≥ -90" }).max(90, { error: "must be ≤ 90" }),
    lon: finite("degrees")
      .min(-180, { error: "must be ≥ -180" })
      .max(180, { error: "must be ≤ 180" }),
    speed: finite("m/s").min(0, { error: "must be ≥ 0" }).optional(),
    course: finite("degrees")
      .min(0, { error: "must be ≥ 0" })
      .lt(360, { error: "must be < 360" })
      .optional(),
    alt: finite("metres").optional(),
    accuracy: finite("metres").min(0, { error: "must be ≥ 0" }).optional(),
    battery: finite("percent")
      .min(0, { error: "must be ≥ 0" })
      .max(100, { error: "must be ≤ 100" })
      .optional(),
    attributes: attributes.optional(),
  },
  { error: "must be an object" },
);

/** One GPS fix as a device reports it: `ts` epoch ms UTC, WGS84 degrees, SI units. */
export type Position = z.infer<typeof positionSchema>;

export type DeviceStatus = "moving" | "stopped" | "offline";
