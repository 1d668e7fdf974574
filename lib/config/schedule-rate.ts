/** The prober's schedule on EventBridge, which counts in whole minutes. */
export interface ScheduleRate {
  readonly minutes: number;
  /** Set when the configured interval was not a whole number of minutes. */
  readonly roundedFrom?: number;
}

/** intervalSeconds rounded up to whole minutes (at least one): never probe more often than asked. */
export function scheduleRate(intervalSeconds: number): ScheduleRate {
  const minutes = Math.max(1, Math.ceil(intervalSeconds / 60));
  return minutes * 60 === intervalSeconds ? { minutes } : { minutes, roundedFrom: intervalSeconds };
}
