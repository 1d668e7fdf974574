/**
 * A small model of how CloudWatch evaluates an M-of-N metric alarm, to check what a synthesized
 * alarm does with the samples the prober emits, cycle by cycle. It aggregates the samples of each
 * period with the alarm's statistic and counts breaching datapoints among the latest
 * evaluationPeriods. Missing datapoints count as breaching only with TreatMissingData
 * "breaching" (CloudWatch's evaluation range can skip an isolated gap; this model never does, so
 * it is the stricter of the two for "must not alarm" cases only when no period is empty).
 */
export interface AlarmRule {
  readonly Period: number;
  readonly Statistic: string;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly TreatMissingData?: string;
}

/** Samples emitted at the given second since the start, e.g. one CheckFailed per endpoint per run. */
export interface Emission {
  readonly atSecond: number;
  readonly values: readonly number[];
}

const AGGREGATES: Record<string, (values: number[]) => number> = {
  Maximum: (values) => Math.max(...values),
  Minimum: (values) => Math.min(...values),
  Sum: (values) => values.reduce((sum, value) => sum + value, 0),
  SampleCount: (values) => values.length,
};

const COMPARISONS: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  GreaterThanThreshold: (value, threshold) => value > threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/**
 * The index of the first period at whose end the alarm is in ALARM, or undefined if it never is
 * within `periods` periods.
 */
export function firstAlarmingPeriod(
  rule: AlarmRule,
  emissions: readonly Emission[],
  periods: number,
): number | undefined {
  const aggregate = AGGREGATES[rule.Statistic];
  const compare = COMPARISONS[rule.ComparisonOperator];
  if (!aggregate || !compare) throw new Error(`model lacks ${rule.Statistic} or ${rule.ComparisonOperator}`);
  const breaching: boolean[] = [];
  for (let period = 0; period < periods; period++) {
    const start = period * rule.Period;
    const values = emissions
      .filter((emission) => emission.atSecond >= start && emission.atSecond < start + rule.Period)
      .flatMap((emission) => emission.values);
    breaching.push(
      values.length === 0
        ? rule.TreatMissingData === "breaching"
        : compare(aggregate(values), rule.Threshold),
    );
    const latest = breaching.slice(-rule.EvaluationPeriods);
    if (latest.filter(Boolean).length >= (rule.DatapointsToAlarm ?? rule.EvaluationPeriods)) return period;
  }
  return undefined;
}

/**
 * What one protocol of a target emits: at `offsetSeconds` into every interval, one CheckFailed
 * sample per endpoint (1 when `failing(cycle, endpoint)`), for the cycles in which the prober runs.
 */
export function checkCycles(options: {
  intervalSeconds: number;
  cycles: number;
  endpoints: number;
  failing: (cycle: number, endpoint: number) => boolean;
  runs?: (cycle: number) => boolean;
  offsetSeconds?: number;
}): Emission[] {
  const emissions: Emission[] = [];
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    if (options.runs && !options.runs(cycle)) continue;
    emissions.push({
      atSecond: cycle * options.intervalSeconds + (options.offsetSeconds ?? 20),
      values: Array.from({ length: options.endpoints }, (_, endpoint) =>
        options.failing(cycle, endpoint) ? 1 : 0,
      ),
    });
  }
  return emissions;
}
