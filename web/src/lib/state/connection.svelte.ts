export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

/** The live link's health, as the indicator shows it. Written only by live.ts. */
class Connection {
  state = $state<ConnectionState>("connecting");
  /** Epoch ms of the last snapshot or batch, for "updated … ago" in the tooltip. */
  lastMessageAt = $state(0);
}

export const connection = new Connection();
