import type { Position } from "../../protocol/index.ts";
import { addDevicesWithCli, connectDevice, report, type TestLocus } from "./locus.ts";

/** Six hours ago, on a minute: history well inside the accepted window. */
export const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 6 * 3_600_000;

/** Two stretches of driving with a 20 min gap between them; one fix 1 cm east of Greenwich. */
export const TRACK: Position[] = [
  ...Array.from({ length: 300 }, (_, i) => ({
    ts: T0 + i * 1000,
    lat: 51.4769 + i * 1e-4,
    lon: i === 7 ? 1e-7 : -0.0005 + i * 1e-5,
    speed: 12.5,
    course: 3,
    alt: 40 + (i % 10),
    accuracy: 4,
    battery: 80,
  })),
  ...Array.from({ length: 200 }, (_, i) => ({
    ts: T0 + 1_500_000 + i * 2000,
    lat: 51.6 + i * 1e-4,
    lon: 0.01,
    speed: 0,
    attributes: { ignition: i % 2 === 0, note: 'say "hi" & <bye>' },
  })),
];

/** The track reported live by device "van", and empty registered devices to import into. */
export async function seedHistory(server: TestLocus, importTargets: string[] = []): Promise<void> {
  const socket = await connectDevice(server.url, "van");
  try {
    for (let i = 0; i < TRACK.length; i += 250) {
      const ack = await report(socket, TRACK.slice(i, i + 250));
      if (!ack.ok || ack.accepted !== 250)
        throw new Error(`seeding failed: ${JSON.stringify(ack)}`);
    }
  } finally {
    socket.close();
  }
  if (importTargets.length > 0) await addDevicesWithCli(server.db, importTargets);
}

/** An export of "van" as text, with its response. */
export async function exportText(
  server: TestLocus,
  format: string,
  query = "",
): Promise<{ res: Response; body: string }> {
  const res = await server.fetch(`/api/devices/van/export?format=${format}${query}`);
  return { res, body: await res.text() };
}
