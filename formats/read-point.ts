/**
 * What every file reader in formats/ yields. Readers only turn bytes into candidate points; what
 * counts as a valid position is decided by whoever consumes them (the server's importer checks
 * each point against the position rules; the simulator's GPX replay skips the ones in error).
 */

/** A point read from a file, before validation: where it came from, and its position fields. */
export interface ReadPoint {
  /** "line 42" or "features[3]": what a person opens the file at to find it. */
  at: string;
  fields: Record<string, unknown>;
  /** Why the reader already refuses this point (e.g. an unreadable time), if it does. */
  error?: string;
}

/** A file that cannot be read any further: malformed, or not what its format promises. */
export class ImportError extends Error {}
