/** The server's notion of "now", injected so tests can move time without waiting for it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
