import { parseArgs } from "node:util";
import { ImportError } from "../../formats/read-point.ts";
import { deviceIdSchema } from "../../protocol/index.ts";
import { DEFAULT_CONFIG, loadConfig } from "../config.ts";
import { PositionStore } from "../store/position-store.ts";
import { importFile, importFormat, progressPrinter } from "./import-file.ts";
import { openDatabase } from "../store/database.ts";
import { DeviceRegistry } from "../store/device-registry.ts";
import { generatePassword } from "../store/secrets.ts";
import { UserStore } from "../store/user-store.ts";

/** `npm run locus -- <command>`: administration from scripts, against the server's database file. */
const USAGE = `usage: npm run locus -- <command> [--db FILE] [--json]

  device add ID...     register devices and print a new token for each (shown only once;
                       for an existing device this replaces its token)
      --allow-id-only         also let them report by identifier alone (phone apps that
                              cannot send a token: OsmAnd, Traccar Client, GPSLogger, OwnTracks)
  device allow-id-only ID on|off
                       allow or stop reporting by identifier alone (registers ID if new)
  device list          list registered devices
  user add NAME        add a user and print a generated password (shown only once)
      --role admin|viewer     (default viewer)
      --devices all|ID,ID…   devices a viewer may see (default all)
  user token NAME      print a new API token acting as that user (Authorization: Bearer …)
  user reset-password NAME
                       set a generated password and print it (shown only once); the user's
                       browser sessions end (a dashboard already open keeps its live feed
                       until it reconnects; the admin page ends it at once)
  user remove NAME     remove a user with their sessions and API tokens (not the last admin)
  user list            list users
  import DEVICE FILE   import a GPX or GeoJSON track into a device (created if new), with
                       progress; points already stored are skipped, so running it twice is safe
      --format gpx|geojson   (default: from the file's extension)

  --db FILE            database file (default: LOCUS_DB, else ${DEFAULT_CONFIG.db})
  --json               print JSON ({"truck-17": "lct_…"} for add) instead of text
`;

function fail(message: string): never {
  process.stderr.write(`locus: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      db: { type: "string" },
      json: { type: "boolean", default: false },
      role: { type: "string", default: "viewer" },
      devices: { type: "string", default: "all" },
      "allow-id-only": { type: "boolean", default: false },
      format: { type: "string" },
      help: { type: "boolean" },
    },
  });
} catch (err) {
  fail((err as Error).message);
}
const { values, positionals } = parsed;
if (values.help || positionals.length === 0) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const [noun, verb, ...ids] = positionals;
const db = openDatabase(values.db ?? process.env.LOCUS_DB ?? DEFAULT_CONFIG.db);
const registry = new DeviceRegistry(db);
const users = new UserStore(db);
const print = (value: unknown, text: string) =>
  console.log(values.json ? JSON.stringify(value, null, 2) : text);

if (noun === "device" && verb === "add") {
  if (ids.length === 0) fail("device add needs at least one device id");
  for (const id of ids) {
    const check = deviceIdSchema.safeParse(id);
    if (!check.success) fail(`device id "${id}" ${check.error.issues[0]?.message}`);
  }
  // One transaction: a script adding 1,000 devices gets all tokens or none.
  const tokens = db.transaction(() =>
    Object.fromEntries(
      ids.map((id) => {
        const token = registry.issueToken(id);
        if (values["allow-id-only"]) registry.setIdOnly(id, true);
        return [id, token];
      }),
    ),
  )();
  if (values.json) console.log(JSON.stringify(tokens, null, 2));
  else {
    for (const [id, token] of Object.entries(tokens)) console.log(`${id}\t${token}`);
    console.error(
      "Store these tokens now: Locus keeps only their hashes and cannot show them again.",
    );
  }
} else if (noun === "device" && verb === "allow-id-only" && ids.length === 2) {
  const [id, setting] = ids as [string, string];
  const check = deviceIdSchema.safeParse(id);
  if (!check.success) fail(`device id "${id}" ${check.error.issues[0]?.message}`);
  if (setting !== "on" && setting !== "off") fail("device allow-id-only needs on or off");
  registry.setIdOnly(id, setting === "on");
  print(
    { deviceId: id, idOnly: setting === "on" },
    setting === "on"
      ? `${id} may now report by its identifier alone (no token needed)`
      : `${id} no longer reports by its identifier alone`,
  );
} else if (noun === "device" && verb === "list") {
  const devices = registry.list();
  if (values.json) console.log(JSON.stringify(devices, null, 2));
  else
    for (const d of devices)
      console.log(
        `${d.deviceId}\t${d.hasToken ? "token" : "no token"}${d.idOnly ? ", id-only" : ""}\t${new Date(d.createdAt).toISOString()}`,
      );
} else if (noun === "user" && verb === "add" && ids.length === 1) {
  const name = ids[0]!;
  const role = values.role;
  if (role !== "admin" && role !== "viewer") fail("--role must be admin or viewer");
  const devices = values.devices === "all" ? "all" : values.devices.split(",").filter(Boolean);
  const password = generatePassword();
  try {
    await users.create({ name, role, devices, password });
  } catch (err) {
    fail((err as Error).message);
  }
  print({ name, role, devices, password }, `${name}\t${role}\tpassword: ${password}`);
} else if (noun === "user" && verb === "token" && ids.length === 1) {
  const token = users.createApiToken(ids[0]!);
  if (!token) fail(`no user named "${ids[0]}"`);
  print({ name: ids[0], token }, token);
} else if (noun === "user" && verb === "reset-password" && ids.length === 1) {
  const name = ids[0]!;
  const password = generatePassword();
  if (!(await users.setPassword(name, password))) fail(`no user named "${name}"`);
  print({ name, password }, `${name}\tpassword: ${password}`);
} else if (noun === "user" && verb === "remove" && ids.length === 1) {
  const name = ids[0]!;
  const admins = users.list().filter((u) => u.role === "admin");
  if (admins.length === 1 && admins[0]!.name === name) {
    fail(`"${name}" is the last admin; add another admin first`);
  }
  if (!users.remove(name)) fail(`no user named "${name}"`);
  print({ name, removed: true }, `${name} removed`);
} else if (noun === "user" && verb === "list") {
  const list = users.list();
  const lines = list.map(
    (u) => `${u.name}\t${u.role}\t${u.devices === "all" ? "all devices" : u.devices.join(",")}`,
  );
  print(list, lines.join("\n"));
} else if (noun === "import" && verb !== undefined && ids.length === 1) {
  const check = deviceIdSchema.safeParse(verb);
  if (!check.success) fail(`device id "${verb}" ${check.error.issues[0]?.message}`);
  const file = ids[0]!;
  let format;
  try {
    format = importFormat(file, values.format);
  } catch (err) {
    fail((err as Error).message);
  }
  try {
    const reply = await importFile({
      store: new PositionStore(db),
      config: loadConfig([], process.env),
      deviceId: verb,
      file,
      format,
      progress: progressPrinter(`importing ${file}`),
    });
    const errors = reply.errors.map((e) => `  ${e.at}: ${e.message}`).join("\n");
    print(
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
} else {
  fail(`unknown command "${positionals.join(" ")}"`);
}
db.close();
