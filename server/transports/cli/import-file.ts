import { createReadStream, statSync } from "node:fs";
import { extname } from "node:path";
import { readGeoJson } from "../../../formats/geojson.ts";
import { readGpx } from "../../../formats/gpx.ts";
import type { ImportFormat, ImportReply } from "../../../protocol/index.ts";
import type { PositionService } from "../../services/positions.ts";

const READERS = { gpx: readGpx, geojson: readGeoJson } as const;

/** The format named by --format, else by the file's extension (.gpx, .geojson, .json). */
export function importFormat(file: string, flag: string | undefined): ImportFormat {
  const format =
    flag ??
    { ".gpx": "gpx", ".geojson": "geojson", ".json": "geojson" }[extname(file).toLowerCase()];
  if (format !== "gpx" && format !== "geojson") {
    throw new Error(`cannot tell the format of ${file}: pass --format gpx or --format geojson`);
  }
  return format;
}

/**
 * `npm run locus -- import DEVICE FILE`: stream a file through the positions service, as the
 * server's import route does, showing progress by bytes read.
 */
export async function importFile(options: {
  positions: PositionService;
  deviceId: string;
  file: string;
  format: ImportFormat;
  progress: (read: number, total: number) => void;
}): Promise<ImportReply> {
  const { positions, deviceId, file, format, progress } = options;
  const total = statSync(file).size;
  let read = 0;
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  async function* counted() {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      progress(read, total);
      yield chunk;
    }
  }
  try {
    // Transactions of a few thousand rows: a running server sharing the file waits at most one
    // of them (busy_timeout) for its own commits.
    return await positions.import(deviceId, READERS[format](counted()), {
      via: "cli",
      batchSize: 5_000,
    });
  } finally {
    stream.destroy();
  }
}

/** A progress line: rewritten in place on a terminal, every 10 % otherwise. */
export function progressPrinter(label: string, out: NodeJS.WriteStream = process.stderr) {
  let lastDecile = -1;
  return (read: number, total: number) => {
    const share = total === 0 ? 1 : read / total;
    const line = `${label} ${(share * 100).toFixed(0).padStart(3)}% (${mb(read)} of ${mb(total)} MB)`;
    if (out.isTTY) {
      const width = 30;
      const done = Math.round(share * width);
      out.write(`\r[${"#".repeat(done)}${" ".repeat(width - done)}] ${line}`);
      if (read >= total) out.write("\n");
    } else if (Math.floor(share * 10) > lastDecile) {
      lastDecile = Math.floor(share * 10);
      out.write(`${line}\n`);
    }
  };
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
