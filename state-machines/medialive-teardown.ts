import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { CHANNEL_NOT_READY_RETRY } from "../lib/retry.ts";
import { WAIT_CHANNEL_STOPPED, WAIT_INPUT_DETACHED } from "../lib/waits.ts";
import type { TaskFunctions } from "./lifecycle.ts";
import { taskState } from "./task-state.ts";
import { WaitForState } from "./wait-for-state.ts";

const { stringAt } = sfn.JsonPath;

export interface MediaLiveTeardownProps {
  readonly tasks: TaskFunctions;
  /** JSONPath of the channel to stop (a string, or absent/null for none). */
  readonly stopChannelIdPath: string;
  /** JSONPath of the channel to delete after it stopped (absent/null: keep it). */
  readonly deleteChannelIdPath: string;
  /** JSONPath of the input to delete once detached (absent/null: keep it). */
  readonly deleteInputIdPath: string;
  /** State titles that differ between lifecycles. */
  readonly titles: {
    readonly channelChoice: string;
    readonly deleteChannel: string;
    readonly inputChoice: string;
    readonly deleteInput: string;
    readonly done: string;
  };
}

/**
 * MediaLive teardown in the order MediaLive requires (aws-facts.md): stop, wait IDLE, delete the
 * channel, wait until its input is DETACHED, delete the input. Each step is skipped when its id
 * is absent, and each is idempotent, so the fragment can be run again after a partial failure.
 * The waiters end in Fail states: wrap the fragment in a Parallel to catch them.
 */
export class MediaLiveTeardown extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: MediaLiveTeardownProps) {
    super(scope, id);
    const { tasks: t, titles } = props;
    const stop = taskState(this, "Stop Channel", {
      fn: t["stop-channel"],
      payload: { channelId: stringAt(props.stopChannelIdPath) },
      resultPath: sfn.JsonPath.DISCARD,
      extraRetries: [CHANNEL_NOT_READY_RETRY],
    });
    const waitStopped = new WaitForState(this, "WaitStopped", {
      spec: WAIT_CHANNEL_STOPPED,
      describe: t["describe-channel"],
      payload: { channelId: stringAt(props.stopChannelIdPath) },
      subject: "Channel",
      idPath: props.stopChannelIdPath,
    });
    const deleteChannel = taskState(this, titles.deleteChannel, {
      fn: t["delete-channel"],
      payload: { channelId: stringAt(props.deleteChannelIdPath) },
      resultPath: sfn.JsonPath.DISCARD,
      extraRetries: [CHANNEL_NOT_READY_RETRY],
    });
    const waitDetached = new WaitForState(this, "WaitDetached", {
      spec: WAIT_INPUT_DETACHED,
      describe: t["describe-input"],
      payload: { inputId: stringAt(props.deleteInputIdPath) },
      subject: "Input",
      idPath: props.deleteInputIdPath,
    });
    const deleteInput = taskState(this, titles.deleteInput, {
      fn: t["delete-input"],
      payload: { inputId: stringAt(props.deleteInputIdPath) },
      resultPath: sfn.JsonPath.DISCARD,
      extraRetries: [CHANNEL_NOT_READY_RETRY],
    });
    const done = new sfn.Pass(this, titles.done, { resultPath: sfn.JsonPath.DISCARD });

    const inputChoice = new sfn.Choice(this, titles.inputChoice)
      .when(sfn.Condition.isString(props.deleteInputIdPath), waitDetached.next(deleteInput).next(done))
      .otherwise(done);
    const channelChoice = new sfn.Choice(this, titles.channelChoice)
      .when(sfn.Condition.isString(props.deleteChannelIdPath), deleteChannel.next(inputChoice))
      .otherwise(inputChoice);
    const stopChoice = new sfn.Choice(this, "Channel To Stop?")
      .when(sfn.Condition.isString(props.stopChannelIdPath), stop.next(waitStopped).next(channelChoice))
      .otherwise(channelChoice);
    this.startState = stopChoice;
    this.endStates = [done];
  }
}
