import type { Position } from "../position.ts";

/**
 * What every hardware tracker protocol (issue #15) decodes into, so one TCP/UDP gateway serves
 * them all: the gateway feeds raw bytes in, gets whole messages out, stores the fixes through the
 * positions service, and writes the message's acknowledgement only after the commit.
 */

/** A fix in Locus's units: `Position` (ms epoch, degrees, m/s, metres, percent, attributes). */
export type TrackerFix = Position;

/** One whole message a tracker sent, decoded. */
export type TrackerMessage =
  /** The tracker says who it is (Teltonika's IMEI handshake, GT06 login): the IMEI as digits. */
  | { kind: "login"; imei: string; reply: Buffer | null }
  /**
   * Fixes (one or many: a Teltonika AVL packet carries a batch). `reply` is what to send back once
   * they are committed (null when the protocol has no acknowledgement); `imei` when the message
   * itself names the device (H02, Coban carry it in every line).
   */
  | { kind: "fixes"; imei?: string; fixes: TrackerFix[]; reply: Buffer | null }
  /** Heartbeat / status without a position: keeps the link; `reply` goes back at once. */
  | { kind: "heartbeat"; imei?: string; reply: Buffer | null; attributes?: Position["attributes"] }
  /** A frame that was skipped, and why: logged by the gateway, naming the protocol and rule. */
  | { kind: "skipped"; reason: string };

/**
 * A byte stream cut into messages. Bytes arrive in arbitrary pieces (one frame split across TCP
 * reads, several frames in one read); `push` returns every message completed so far. Memory is
 * bounded: a stream that cannot be framed (garbage, an impossible length, a line without a
 * terminator past the protocol's maximum) throws `TrackerProtocolError`, and the gateway closes
 * the connection.
 */
export interface TrackerStreamDecoder {
  push(chunk: Buffer): TrackerMessage[];
}

/** The stream broke a rule it cannot recover from: the connection is closed with this reason. */
export class TrackerProtocolError extends Error {
  constructor(
    readonly protocol: string,
    message: string,
  ) {
    super(`${protocol}: ${message}`);
    this.name = "TrackerProtocolError";
  }
}
