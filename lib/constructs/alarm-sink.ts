import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";

/**
 * An alarm as the alarm set adds it: it names it, wires its action to the alarm topic and says
 * whether actions are on (aws.scheduleEnabled). One period unless said.
 */
export type AlarmSpec = Omit<cloudwatch.AlarmProps, "evaluationPeriods" | "alarmName" | "actionsEnabled"> & {
  readonly evaluationPeriods?: number;
};

/** Where the target and fleet alarms go: the alarm set, which names them and wires their action. */
export interface AlarmSink {
  add(id: string, spec: AlarmSpec): void;
  /** A synth warning, once per id. */
  warn(id: string, message: string): void;
}
