import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";

/** An alarm as the alarm set adds it: it names it, and it notifies the alarm topic. One period unless said. */
export type AlarmSpec = Omit<cloudwatch.AlarmProps, "evaluationPeriods" | "alarmName"> & {
  readonly evaluationPeriods?: number;
};

/** Where the target and fleet alarms go: the alarm set, which names them and wires their action. */
export interface AlarmSink {
  add(id: string, spec: AlarmSpec): void;
  /** A synth warning, once per id. */
  warn(id: string, message: string): void;
}
