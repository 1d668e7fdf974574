/**
 * How many periods of what length a check alarm looks at. The prober checks every endpoint once
 * per schedule interval and emits CheckFailed (1 failed, 0 passed) per Target and Protocol for
 * each check. With one period per interval and the Maximum statistic, a period is 1 when any
 * endpoint of that protocol failed in that cycle; `confirmAfter` such periods in a row is the
 * confirmation flap control asks before a status changes (core: confirmAfter consecutive failures).
 */
export interface CheckWindow {
  /** One schedule interval, as a period CloudWatch accepts. */
  readonly periodSeconds: number;
  /** datapointsToAlarm and evaluationPeriods: confirmAfter, unless the window had to be shortened. */
  readonly cycles: number;
  /** Set when the interval was not a period CloudWatch accepts and was rounded up. */
  readonly periodRoundedFrom?: number;
  /** Set when confirmAfter periods would not fit the alarm's longest window. */
  readonly cyclesCappedFrom?: number;
}

const ONE_DAY_SECONDS = 86_400;

/**
 * CloudWatch alarm periods are 10, 30 or a multiple of 60 seconds, at most one day (PutMetricAlarm,
 * Period). Rounded up: an alarm period shorter than the interval would see empty periods.
 */
export function cloudWatchPeriodSeconds(seconds: number): number {
  if (seconds <= 10) return 10;
  if (seconds <= 30) return 30;
  return Math.min(ONE_DAY_SECONDS, Math.ceil(seconds / 60) * 60);
}

/**
 * The longest span a metric alarm may evaluate: periods x evaluation periods at most one day when
 * the period is under an hour, seven days otherwise (PutMetricAlarm, EvaluationPeriods).
 */
export function standardAlarmWindowSeconds(periodSeconds: number): number {
  return periodSeconds < 3600 ? ONE_DAY_SECONDS : 7 * ONE_DAY_SECONDS;
}

/** Metrics Insights alarms evaluate only the latest 3 hours of data (CloudWatch, "Limits"). */
export const METRICS_INSIGHTS_ALARM_WINDOW_SECONDS = 3 * 3600;

export function checkWindow(
  intervalSeconds: number,
  confirmAfter: number,
  maxWindowSeconds: (periodSeconds: number) => number = standardAlarmWindowSeconds,
): CheckWindow {
  const periodSeconds = cloudWatchPeriodSeconds(intervalSeconds);
  const fits = Math.max(1, Math.floor(maxWindowSeconds(periodSeconds) / periodSeconds));
  const cycles = Math.min(confirmAfter, fits);
  return {
    periodSeconds,
    cycles,
    ...(periodSeconds === intervalSeconds ? {} : { periodRoundedFrom: intervalSeconds }),
    ...(cycles === confirmAfter ? {} : { cyclesCappedFrom: confirmAfter }),
  };
}
