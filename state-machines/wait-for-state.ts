import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { TaskErrors } from "../lib/errors.ts";
import type { WaitSpec } from "../lib/waits.ts";
import { taskState } from "./task-state.ts";

export interface WaitForStateProps {
  readonly spec: WaitSpec;
  /** A describe task returning `{ state }` (describe-channel, describe-input). */
  readonly describe: IFunction;
  /** Its input, e.g. `{ channelId: JsonPath.stringAt("$.channel.channelId") }`. */
  readonly payload: Record<string, unknown>;
  /** What is awaited, for messages: e.g. "channel", "input". */
  readonly subject: string;
  /** JSONPath of the awaited resource's id, for messages. */
  readonly idPath: string;
}

/**
 * Polls a MediaLive resource until it reaches one of `spec.success`, pausing `delaySeconds`
 * between polls in a Wait state (nothing waits inside a Lambda). A state outside success and
 * pending fails with `ChannelFailed`; running out of polls fails with `ChannelWaitTimeout`.
 * Both are Fail states: wrap the fragment in a Parallel whose Catch compensates.
 * State names start with the spec's title, so an operator sees "Wait For Channel Running: Poll".
 */
export class WaitForState extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: WaitForStateProps) {
    super(scope, id);
    const { spec } = props;
    const t = spec.title;
    const start = new sfn.Pass(this, t, {
      result: sfn.Result.fromObject({ polls: 0 }),
      resultPath: "$.wait",
    });
    const poll = taskState(this, `${t}: Poll`, {
      fn: props.describe,
      payload: props.payload,
      resultPath: "$.wait.observed",
    });
    const reached = new sfn.Pass(this, `${t}: Reached`, { resultPath: sfn.JsonPath.DISCARD });
    const pause = new sfn.Wait(this, `${t}: Pause`, {
      time: sfn.WaitTime.duration(Duration.seconds(spec.delaySeconds)),
    });
    const count = new sfn.Pass(this, `${t}: Count Poll`, {
      parameters: { "polls.$": "States.MathAdd($.wait.polls, 1)" },
      resultPath: "$.wait",
    });
    const describeFailure = (name: string, failName: string, error: string, template: string) =>
      new sfn.Pass(this, `${t}: ${name}`, {
        parameters: {
          Error: error,
          "Cause.$": `States.Format('${template}', ${props.idPath}, $.wait.observed.state)`,
        },
        resultPath: "$.failure",
      }).next(
        new sfn.Fail(this, `${t}: ${failName}`, {
          errorPath: "$.failure.Error",
          causePath: "$.failure.Cause",
        }),
      );
    const anyOf = (states: readonly string[]) =>
      sfn.Condition.or(...states.map((s) => sfn.Condition.stringEquals("$.wait.observed.state", s)));
    const budget = spec.delaySeconds * spec.maxPolls;
    const settled = new sfn.Choice(this, `${t}: Check State`)
      .when(anyOf(spec.success), reached)
      .when(
        sfn.Condition.and(
          anyOf(spec.pending),
          sfn.Condition.numberGreaterThanEquals("$.wait.polls", spec.maxPolls),
        ),
        describeFailure(
          "Describe Timeout",
          "Timed Out",
          TaskErrors.ChannelWaitTimeout,
          `${props.subject} {} still {} after ${budget} s (${t})`,
        ),
      )
      .when(anyOf(spec.pending), pause.next(count).next(poll))
      .otherwise(
        describeFailure(
          "Describe Failure",
          "Failed",
          TaskErrors.ChannelFailed,
          `${props.subject} {} is {}, which ${t.toLowerCase()} cannot recover from`,
        ),
      );
    start.next(poll).next(settled);
    this.startState = start;
    this.endStates = [reached];
  }
}
