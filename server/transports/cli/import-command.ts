import { ImportError } from "../../../formats/read-point.ts";
import { parseDeviceId } from "../../services/device-shapes.ts";
import { importFile, importFormat, progressPrinter } from "./import-file.ts";
import { CliError, type Cli } from "./usage.ts";

/** `import DEVICE FILE [--format gpx|geojson]`: the device is created if new. */
export async function importCommand(cli: Cli, args: string[]): Promise<void> {
  if (args.length !== 2) throw new CliError("import needs a device id and a file");
  const [id, file] = args as [string, string];
  const deviceId = parseDeviceId(id, `device id "${id}"`);
  let format;
  try {
    format = importFormat(file, cli.options.format);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  try {
    const reply = await importFile({
      positions: cli.services.positions,
      deviceId,
      file,
      format,
      progress: progressPrinter(`importing ${file}`),
    });
    const errors = reply.errors.map((e) => `  ${e.at}: ${e.message}`).join("\n");
    cli.print(
      reply,
      `${reply.accepted} stored, ${reply.duplicates} already there, ${reply.rejected} rejected` +
        (errors ? `\n${errors}` : ""),
    );
  } catch (err) {
    if (!(err instanceof ImportError) && (err as NodeJS.ErrnoException).code !== "ENOENT")
      throw err;
    process.stderr.write(`locus: ${file}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
