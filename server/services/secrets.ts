import { createHash, randomBytes } from "node:crypto";

/**
 * Random bearer secrets (device tokens, sessions, API tokens): 256 bits, shown once, stored only
 * as SHA-256. A slow password hash protects guessable passwords; an unguessable secret does not
 * need one, and the fast hash keeps every handshake and request cheap. A webhook's signing key
 * (`lcw_`) is the exception: it must be kept as is, since every body is signed with it.
 */
export function newSecret(prefix: "lct_" | "lcs_" | "lca_" | "lcw_"): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** A password Locus makes up for a person: 16 URL-safe characters from 96 random bits. */
export function generatePassword(): string {
  return randomBytes(12).toString("base64url");
}

export function hash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
