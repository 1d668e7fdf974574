/** The monitor's clock. Every RTT is a difference of two readings of this one clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
