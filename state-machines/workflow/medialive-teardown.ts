import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import * as deleteChannel from "#tasks/medialive/delete-channel.ts";
import * as deleteInput from "#tasks/medialive/delete-input.ts";
import * as describeInput from "#tasks/medialive/describe-input.ts";
import * as deleteChannelAndAwait from "#tasks/waits/delete-channel-and-await.ts";
import { channelActionAndWait } from "./act-and-wait.ts";
import { defaultIsNext } from "./choice-then-next.ts";
import { CHANNEL_NOT_READY_RETRY } from "./retry.ts";
import { present, type Ref } from "./state.ts";
import { stopChannelAndWait } from "./stop-channel-and-wait.ts";
import { type TaskFunctions, taskState } from "./task-state.ts";
import { WaitForState, waitMode } from "./wait-for-state.ts";
import { WAIT_CHANNEL_DELETED, WAIT_INPUT_DETACHED } from "./waits.ts";

export type MediaLiveTeardownProps = {
  readonly fns: TaskFunctions;
  /** The input to delete once detached (absent/null: keep it). */
  readonly deleteInputId: Ref<string | null | undefined>;
  /** State titles that differ between lifecycles. */
  readonly titles: {
    readonly channelChoice: string;
    readonly deleteChannel: string;
    readonly inputChoice: string;
    readonly deleteInput: string;
    /**
     * A Pass the fragment ends in, where it ends a Parallel branch (a branch cannot end in a
     * Choice). Without it, the fragment goes straight on to the state chained after it.
     */
    readonly done?: string;
  };
  /** Prefix for every state name, so the fragment can be used twice in one machine. Default: none. */
  readonly prefix?: string;
} & (
  | {
      /** One channel, stopped then deleted (a string, or absent/null for none). */
      readonly channelId: Ref<string | null | undefined>;
    }
  | {
      /** The channel to stop (a string, or absent/null for none). */
      readonly stopChannelId: Ref<string | null | undefined>;
      /** The channel to delete after it stopped (absent/null: keep it). */
      readonly deleteChannelId: Ref<string | null | undefined>;
    }
);

/**
 * MediaLive teardown in the order MediaLive requires (aws-facts.md): stop, wait IDLE, delete the
 * channel, wait until its input is DETACHED, delete the input. In event mode the wait is for the
 * channel's DELETED event, after which Delete Input's retry covers the moment the input takes to
 * detach. Each step is skipped when its id
 * is absent, and each is idempotent, so the fragment can be run again after a partial failure.
 * The waiters end in Fail states: wrap the fragment in a Parallel to catch them.
 */
export class MediaLiveTeardown extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: MediaLiveTeardownProps) {
    super(scope, id);
    const { fns, titles } = props;
    // Each id is a string wherever it is used: the Choices below skip a step when it is not.
    const sameChannel = "channelId" in props;
    const stopId = present(sameChannel ? props.channelId : props.stopChannelId);
    const channelId = present(sameChannel ? props.channelId : props.deleteChannelId);
    const inputId = present(props.deleteInputId);
    const stopAndWait = stopChannelAndWait(this, "WaitStopped", { fns, channelId: stopId });
    // In event mode the delete is the first round of a wait for its DELETED event: the input
    // detaches only after it, so polling the input before it is wasted.
    const deleteChannelState =
      waitMode(this) === "events"
        ? channelActionAndWait(
            this,
            "WaitDeleted",
            { spec: WAIT_CHANNEL_DELETED, task: deleteChannel.task, round: deleteChannelAndAwait.task },
            { fns, channelId, title: titles.deleteChannel },
          )
        : taskState(this, fns, titles.deleteChannel, {
            task: deleteChannel.task,
            payload: { channelId },
            resultPath: sfn.JsonPath.DISCARD,
            extraRetries: [CHANNEL_NOT_READY_RETRY],
          });
    const waitDetached = () =>
      new WaitForState(this, "WaitDetached", {
        spec: WAIT_INPUT_DETACHED,
        fns,
        awaited: { describe: describeInput.task, inputId },
      });
    const deleteInputState = taskState(this, fns, titles.deleteInput, {
      task: deleteInput.task,
      payload: { inputId },
      resultPath: sfn.JsonPath.DISCARD,
      extraRetries: [CHANNEL_NOT_READY_RETRY],
    });
    // In event mode the channel's DELETED event came first, and the input detaches moments later:
    // Delete Input's own retry (ChannelNotReady while attached) waits that out without polls.
    // Without an input to delete, the teardown goes straight on to what follows it.
    const inputChoice = new sfn.Choice(this, titles.inputChoice).when(
      sfn.Condition.isString(inputId.path),
      waitMode(this) === "events" ? deleteInputState : waitDetached().next(deleteInputState),
    );
    const deleteThenInput = deleteChannelState.next(inputChoice);
    const channelChoice = new sfn.Choice(this, titles.channelChoice)
      .when(sfn.Condition.isString(channelId.path), deleteThenInput)
      .otherwise(inputChoice);
    // One channel stopped and deleted: once stopped, it is there to delete.
    const stopChoice = new sfn.Choice(this, "Channel To Stop?")
      .when(
        sfn.Condition.isString(stopId.path),
        stopAndWait.next(sameChannel ? deleteThenInput : channelChoice),
      )
      .otherwise(channelChoice);
    this.startState = stopChoice;
    const ends = defaultIsNext(inputChoice);
    if (titles.done) {
      const done = new sfn.Pass(this, titles.done, { resultPath: sfn.JsonPath.DISCARD });
      for (const end of ends) end.next(done);
      this.endStates = [done];
    } else {
      this.endStates = ends;
    }
    if (props.prefix) this.prefixStates(props.prefix);
  }
}
