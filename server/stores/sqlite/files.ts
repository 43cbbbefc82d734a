import { closeSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Putting a finished file in place so that it is never seen half-written: its bytes reach the
 * disk (fsync) before the rename, and the rename itself reaches it (fsync of the folder) before
 * anyone is told it is done. A crash at any moment leaves either the old file or the new one.
 */
export function publishFile(temp: string, final: string): void {
  fsyncPath(temp, "r+");
  renameSync(temp, final);
  fsyncPath(dirname(final), "r");
}

function fsyncPath(path: string, flags: "r" | "r+"): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A temp name beside `final` (same folder, so the rename cannot cross file systems). */
export const tempBeside = (final: string, purpose: string) =>
  `${final}.${purpose}-${process.pid}.tmp`;

export const removeQuietly = (path: string) => rmSync(path, { force: true });

/** The files SQLite keeps beside a database; a stale one would be replayed into a new file. */
export const SIDE_FILES = ["-wal", "-shm", "-journal"] as const;
