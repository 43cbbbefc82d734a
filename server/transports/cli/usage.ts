import { EVENT_TYPES } from "../../../protocol/geofence.ts";
import { DEFAULT_CONFIG } from "../../config.ts";
import type { Services } from "../../services/index.ts";

/** What every command gets: the services, the parsed flags, and how to print a result. */
export interface Cli {
  services: Services;
  options: {
    json: boolean;
    role: string;
    devices: string;
    groups?: string;
    name?: string;
    "allow-id-only": boolean;
    yes: boolean;
    format?: string;
    circle?: string;
    polygon?: string;
    corridor?: string;
    width?: string;
    color?: string;
    "speed-limit"?: string;
    user?: string;
    types?: string;
    geofences?: string;
    hours?: string;
    webhooks?: string;
    push: boolean;
    limit?: string;
  };
  /** JSON with --json, else the text. */
  print(value: unknown, text: string): void;
}

/** A command used wrongly: the message, then (unless it is about data, not usage) the usage. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

/** A comma-separated flag as a list ("" and absent: none). */
export const list = (value: string | undefined) => (value ?? "").split(",").filter(Boolean);

export const USAGE = `usage: npm run locus -- <command> [--db FILE] [--json]

  device add ID...     register devices and print a new token for each (shown only once;
                       for an existing device this replaces its token)
      --allow-id-only         also let them report by identifier alone (phone apps that
                              cannot send a token: OsmAnd, Traccar Client, GPSLogger, OwnTracks)
      --name NAME             display name (one device only)
      --groups G,G…           groups it belongs to
  device allow-id-only ID on|off
                       allow or stop reporting by identifier alone (registers ID if new)
  device rename ID NAME
                       set the display name ("" to show the id again)
  device groups ID G,G…
                       set the groups the device belongs to ("" for none)
  device speed-limit ID KMH|none
                       overspeed events above KMH for this device instead of the global
                       --speed-limit-kmh (none: the global one again)
  device remove ID     remove the device with its whole history; says how many positions
                       that deletes and asks for --yes
  device list          list registered devices
  group add NAME       create a group of devices (grants may name it)
  group remove NAME    remove a group (its devices stay)
  group list           list groups and their devices
  user add NAME        add a user and print a generated password (shown only once)
      --role admin|viewer     (default viewer)
      --devices all|ID,ID…   devices a viewer may see (default all)
      --groups G,G…           groups whose devices a viewer may see
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
  geofence add --name NAME --circle LAT,LON,RADIUS_M
  geofence add --name NAME --polygon "LAT,LON;LAT,LON;LAT,LON…"
  geofence add --name NAME --corridor "LAT,LON;LAT,LON…" --width METRES
                       add a geofence; events (enter, exit, overspeed) follow at once
      --color #rrggbb         its colour on the map
      --speed-limit KMH       overspeed inside it above this speed
  geofence list        list geofences
  geofence remove ID|NAME
                       remove a geofence (its past events stay)
  geofence import FILE import fences from GeoJSON (Point + properties.radius, Polygon,
                       LineString + properties.width); all or none
  geofence export [FILE]
                       write every fence as GeoJSON (to stdout without FILE)
  webhook add URL --user NAME
                       add a webhook of that user and print its signing secret (shown only
                       once); loopback and private addresses need --webhook-allow-private
                       on the server (LOCUS_WEBHOOK_ALLOW_PRIVATE here)
  webhook list|remove ID|test ID|log ID --user NAME
                       list, remove, send a signed test body now, or show the delivery log
                       (newest first; --limit N, default 100)
  rule add --user NAME --name NAME [--webhooks ID,ID…] [--push]
                       send that user's events to their webhooks and/or, with --push, their
                       browsers (Web Push); without the flags below, every event of every
                       device they see, at any time
      --types T,T…            event types, of: ${EVENT_TYPES.join(", ")}
      --devices ID,ID…        devices (default all)
      --groups G,G…           groups: their devices, also ones added later
      --geofences ID|NAME,…   only events about these fences
      --hours "Mon-Fri 08:00-18:00 Europe/Paris"
                              days (a range or Mon,Wed…; default every day), the window
                              (it may run past midnight) and the zone (default this machine's)
  rule list|remove ID --user NAME
                       list that user's rules, or remove one
  backup FILE          copy the database to FILE while the server keeps running, with
                       progress; the copy is checked (integrity_check) before it gets its name
  restore FILE         check the backup FILE and put it in place of the database; refuses a
                       database a server has open (stop it first)
      --force                 replace an existing database
  migrate              apply the pending schema migrations of --db (a file or a postgres://
                       URL) and print the versions; servers do it at start, this is for
                       migrating before rolling out new nodes
  copy-store --to URL [--from FILE]
                       copy a SQLite installation (default: --db) into PostgreSQL: every
                       table, ids kept, with progress; run it again to resume a stopped copy;
                       ends by checking every table's row count. The target must be empty
                       or an earlier copy of the same installation

  --db FILE            database file (default: LOCUS_DB, else ${DEFAULT_CONFIG.db})
  --json               print JSON ({"truck-17": "lct_…"} for add) instead of text
`;
