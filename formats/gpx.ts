import { SaxesParser, type SaxesTagPlain } from "saxes";
import { ImportError, type ReadPoint } from "./read-point.ts";
import { parseDateTime } from "./time.ts";

/** Elements inside a <trkpt> whose text becomes a reading, by local name (any namespace prefix). */
const READINGS: Record<string, "alt" | "time" | "speed" | "course"> = {
  ele: "alt",
  time: "time",
  // GPX 1.0 had these in the track point; GPX 1.1 writers put them in extensions, e.g. Garmin's
  // TrackPointExtension (gpxtpx:speed, gpxtpx:course), which Locus itself writes.
  speed: "speed",
  course: "course",
};

interface OpenPoint {
  line: number;
  fields: Record<string, unknown>;
  time: string | null;
  error: string | null;
}

const localName = (name: string) => name.slice(name.indexOf(":") + 1);

/**
 * Read the track points of a GPX file (1.0 or 1.1) as it streams in, one batch per chunk: only the
 * point being read is held in memory. Every <trkpt> of every <trkseg> of every <trk> is a fix
 * (segments need no marking: Locus finds gaps from the times); waypoints and routes are not
 * tracks and are skipped. A file that is not well-formed XML, not GPX, or has a point without
 * lat, lon or time stops with an ImportError naming the line.
 */
export async function* readGpx(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ReadPoint[]> {
  const parser = new SaxesParser<{ position: true; xmlns: false }>({
    position: true,
    xmlns: false,
  });
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let batch: ReadPoint[] = [];
  let sawRoot = false;
  let points = 0;
  let point: OpenPoint | null = null;
  let reading: keyof typeof READINGS | null = null;
  let text = "";

  parser.on("opentag", (tag: SaxesTagPlain) => {
    const name = localName(tag.name);
    if (!sawRoot) {
      sawRoot = true;
      if (name !== "gpx") fail(`the root element is <${tag.name}>, not <gpx>: not a GPX file`);
    }
    if (name === "trkpt") {
      point = openPoint(tag, parser.line);
    } else if (point && name in READINGS) {
      reading = name as keyof typeof READINGS;
      text = "";
    }
  });
  parser.on("text", (t) => {
    if (reading) text += t;
  });
  parser.on("cdata", (t) => {
    if (reading) text += t;
  });
  parser.on("closetag", (tag) => {
    const name = localName(tag.name);
    const open: OpenPoint | null = point;
    if (open && reading === name) {
      setReading(open, READINGS[name]!, text.trim());
      reading = null;
    } else if (open && name === "trkpt") {
      batch.push(closePoint(open));
      points++;
      point = null;
    }
  });

  function fail(message: string): never {
    throw new ImportError(`line ${parser.line}: ${message}`);
  }

  function write(chunk: string): void {
    try {
      parser.write(chunk);
    } catch (err) {
      if (err instanceof ImportError) throw err;
      // saxes says "12:34: message"; people read "line 12, column 34: message".
      const message = (err as Error).message.replace(/^(\d+):(\d+): /, "line $1, column $2: ");
      throw new ImportError(`not well-formed XML: ${message}`);
    }
  }

  for await (const chunk of source) {
    let decoded: string;
    try {
      decoded = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    } catch {
      throw new ImportError(`line ${parser.line}: the file is not UTF-8 text`);
    }
    try {
      write(decoded);
    } catch (err) {
      // The points read before the error in this chunk are good: hand them over first.
      if (batch.length > 0) yield batch;
      throw err;
    }
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  write(decoder.decode());
  try {
    parser.close();
  } catch (err) {
    const message = (err as Error).message.replace(/^(\d+):(\d+): /, "line $1, column $2: ");
    throw new ImportError(`not well-formed XML: ${message}`);
  }
  if (!sawRoot) throw new ImportError("the file is empty: not a GPX file");
  if (batch.length > 0) yield batch;
  if (points === 0) {
    throw new ImportError(
      "no <trkpt> in this GPX file: Locus imports tracks, not waypoints or routes",
    );
  }

  function openPoint(tag: SaxesTagPlain, line: number): OpenPoint {
    const fields: Record<string, unknown> = {};
    for (const attribute of ["lat", "lon"] as const) {
      const raw = tag.attributes[attribute];
      if (raw === undefined) fail(`<${tag.name}> lacks ${attribute}`);
      fields[attribute] = numberOrText(raw);
    }
    return { line, fields, time: null, error: null };
  }
}

function setReading(point: OpenPoint, field: "alt" | "time" | "speed" | "course", text: string) {
  if (field === "time") point.time = text;
  else point.fields[field] = numberOrText(text);
}

function closePoint(point: OpenPoint): ReadPoint {
  const at = `line ${point.line}`;
  if (point.time === null) {
    throw new ImportError(`${at}: <trkpt> has no <time>; Locus stores only timed fixes`);
  }
  const ts = parseDateTime(point.time);
  if (ts === null) {
    return {
      at,
      fields: point.fields,
      error: `<time> "${point.time}" is not an ISO-8601 date-time`,
    };
  }
  return { at, fields: { ...point.fields, ts } };
}

/** A number when the text is one; otherwise the text, for the position rules to name. */
function numberOrText(text: string): number | string {
  const value = Number(text);
  return text.trim() !== "" && Number.isFinite(value) ? value : text;
}
