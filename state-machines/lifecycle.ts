import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { TaskName } from "../lib/task-catalog.ts";

/** The task functions a lifecycle is built from, by task name. */
export type TaskFunctions = Readonly<Record<TaskName, IFunction>>;

export interface LifecycleProps {
  readonly tasks: TaskFunctions;
  /**
   * Log group for execution logs. Default: a new one kept for a month. Execution data
   * (inputs, outputs) is never logged: `includeExecutionData: false`.
   */
  readonly logGroup?: logs.ILogGroup;
}

/**
 * What every castflow state machine has: Standard type (exactly-once, history for 90 days),
 * a timeout, X-Ray tracing, logging without execution data, and an alarm on failed executions.
 */
export abstract class Lifecycle extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly failedAlarm: cloudwatch.Alarm;

  protected constructor(
    scope: Construct,
    id: string,
    name: string,
    props: LifecycleProps,
    timeout: Duration,
  ) {
    super(scope, id);
    const definition = this.build(props.tasks);
    const logGroup =
      props.logGroup ?? new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.ONE_MONTH });
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout,
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

  protected abstract build(tasks: TaskFunctions): sfn.IChainable;
}
