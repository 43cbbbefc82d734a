import { z } from "zod";
import type { WsClientFrame, WsServerFrame } from "../../../protocol/ws.ts";
import { describeIssue } from "../../../protocol/validate.ts";

type ErrorFrame = Extract<WsServerFrame, { type: "error" }>;

const idSchema = z.union(
  [z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().max(64)],
  { error: "must be a non-negative integer or a string of at most 64 characters" },
);

const authFrame = z.strictObject({
  type: z.literal("auth"),
  deviceId: z.string({ error: "must be a string" }).optional(),
  token: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(256),
});

const reportFrame = z.strictObject({
  type: z.literal("position:report"),
  id: idSchema.optional(),
  // Checked by ingest, position by position, exactly as for socket.io devices.
  positions: z.unknown().refine((v) => v !== undefined, { error: "is required" }),
});

const FRAMES = { auth: authFrame, "position:report": reportFrame } as const;

function error(code: ErrorFrame["code"], message: string, field?: string): ErrorFrame {
  return field === undefined
    ? { type: "error", code, message }
    : { type: "error", code, message: `${field} ${message}`, field };
}

/** Parse one text frame; a malformed one yields the error frame to answer with, naming the field. */
export function parseFrame(text: string): { frame: WsClientFrame } | { error: ErrorFrame } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: error("invalid_json", "frames must be JSON text") };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: error("invalid_frame", "frames must be JSON objects with a type") };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") return { error: error("invalid_frame", "is required", "type") };
  const schema = FRAMES[type as keyof typeof FRAMES];
  if (!schema) {
    return {
      error: error("unknown_type", `"${type.slice(0, 32)}" is not auth or position:report`, "type"),
    };
  }
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const { field, message } = describeIssue(issue);
    const reply = error(
      "invalid_frame",
      issue?.code === "unrecognized_keys" ? `is not a field of a ${type} frame` : message,
      field,
    );
    const id = (value as { id?: unknown }).id;
    if (idSchema.safeParse(id).success) reply.id = id as number | string;
    return { error: reply };
  }
  return { frame: parsed.data as WsClientFrame };
}
