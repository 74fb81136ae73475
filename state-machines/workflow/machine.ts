import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { Lifecycle } from "./lifecycle.ts";
import type { TaskFunctions } from "./task-state.ts";

/** A lifecycle with the builder of its state machine (the CDK half of its declaration). */
export interface MachineDefinition {
  readonly lifecycle: Lifecycle;
  /** Builds the definition; task states get their functions from `fns`. */
  readonly build: (scope: Construct, fns: TaskFunctions) => sfn.IChainable;
}

export function defineMachine(
  lifecycle: Lifecycle,
  build: (scope: Construct, fns: TaskFunctions) => sfn.IChainable,
): MachineDefinition {
  return { lifecycle, build };
}

export interface LifecycleStateMachineProps {
  readonly machine: MachineDefinition;
  readonly stateMachineName: string;
  readonly functions: TaskFunctions;
  /**
   * Log group for execution logs. Default: a new one kept for a month. Execution data
   * (inputs, outputs) is never logged: `includeExecutionData: false`.
   */
  readonly logGroup?: logs.ILogGroup;
}

/**
 * What every castflow state machine has: Standard type (exactly-once, history for 90 days),
 * the lifecycle's timeout, X-Ray tracing, logging without execution data, and an alarm on
 * failed, timed-out or aborted executions.
 */
export class LifecycleStateMachine extends Construct {
  readonly lifecycle: Lifecycle;
  readonly stateMachine: sfn.StateMachine;
  readonly failedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: LifecycleStateMachineProps) {
    super(scope, id);
    const { lifecycle } = props.machine;
    this.lifecycle = lifecycle;
    const name = props.stateMachineName;
    const definition = props.machine.build(this, props.functions);
    const logGroup =
      props.logGroup ?? new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.ONE_MONTH });
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.minutes(lifecycle.timeoutMinutes),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    this.failedAlarm = new cloudwatch.Alarm(this, "FailedExecutions", {
      alarmDescription: `${name}: executions failed, timed out or were aborted`,
      metric: new cloudwatch.MathExpression({
        expression: "failed + timedOut + aborted",
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: "Sum" }),
          timedOut: this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: "Sum" }),
          aborted: this.stateMachine.metricAborted({ period: Duration.minutes(5), statistic: "Sum" }),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
