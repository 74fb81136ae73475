import { Duration } from "aws-cdk-lib";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { TaskErrors } from "#lib/errors.ts";
import type { AnyTask, TaskInput } from "#tasks/define.ts";
import type * as describeChannel from "#tasks/medialive/describe-channel.ts";
import type * as describeInput from "#tasks/medialive/describe-input.ts";
import { type Exact, type Payload, present, type Ref, type Slot } from "./state.ts";
import { type TaskFunctions, taskState } from "./task-state.ts";
import type { WaitSpec } from "./waits.ts";

/**
 * Any other resource: a task whose answer has the resource's `state`, with its payload checked
 * against the task's input like any task state's. Made with `polledBy`, so a new kind of wait
 * needs no change here.
 */
export interface Polled {
  readonly subject: string;
  /** What the failure messages name (e.g. the source id). */
  readonly id: Ref<string>;
  readonly poll: (scope: Construct, fns: TaskFunctions, title: string) => sfn.State & sfn.INextable;
}

/** A wait on `task`'s answers (`{state}`), called with `payload`; `subject` and `id` name it in failures. */
export function polledBy<T extends AnyTask, P extends Payload<TaskInput<T>>>(
  task: T & { readonly run: (...args: never[]) => Promise<{ readonly state: string }> },
  payload: Exact<P, TaskInput<T>>,
  subject: string,
  id: Ref<string>,
): Polled {
  return {
    subject,
    id,
    poll: (scope, fns, title) =>
      taskState(scope, fns, title, { task, payload, resultPath: OBSERVED as never }),
  };
}

/** What is awaited: a MediaLive channel or input by a reference to its id, or anything `polledBy` describes. */
export type Awaited =
  | { readonly describe: typeof describeChannel.task; readonly channelId: Ref<string | null> }
  | { readonly describe: typeof describeInput.task; readonly inputId: Ref<string | null> }
  | Polled;

/** Where each poll's answer goes: `$.wait.observed` (the fragment's own scratch field). */
const OBSERVED = { path: "$.wait.observed" } as Slot<{ readonly state: string }>;

export interface WaitForStateProps {
  readonly spec: WaitSpec;
  readonly fns: TaskFunctions;
  readonly awaited: Awaited;
  /** Prefix for every state name, so the fragment can be used twice in one machine. Default: none. */
  readonly prefix?: string;
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
    const { awaited } = props;
    const subject = "channelId" in awaited ? "Channel" : "inputId" in awaited ? "Input" : awaited.subject;
    const awaitedId =
      "channelId" in awaited ? awaited.channelId : "inputId" in awaited ? awaited.inputId : awaited.id;
    const poll =
      "channelId" in awaited
        ? taskState(this, props.fns, `${t}: Poll`, {
            task: awaited.describe,
            payload: { channelId: present(awaited.channelId) },
            resultPath: OBSERVED,
          })
        : "inputId" in awaited
          ? taskState(this, props.fns, `${t}: Poll`, {
              task: awaited.describe,
              payload: { inputId: present(awaited.inputId) },
              resultPath: OBSERVED,
            })
          : awaited.poll(this, props.fns, `${t}: Poll`);
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
          "Cause.$": `States.Format('${template}', ${awaitedId.path}, $.wait.observed.state)`,
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
          `${subject} {} still {} after ${budget} s (${t})`,
        ),
      )
      .when(anyOf(spec.pending), pause.next(count).next(poll))
      .otherwise(
        describeFailure(
          "Describe Failure",
          "Failed",
          TaskErrors.ChannelFailed,
          `${subject} {} is {}, which ${t.toLowerCase()} cannot recover from`,
        ),
      );
    start.next(poll).next(settled);
    this.startState = start;
    this.endStates = [reached];
    if (props.prefix) this.prefixStates(props.prefix);
  }
}
