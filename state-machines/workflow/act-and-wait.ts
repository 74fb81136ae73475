import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import type * as deleteChannel from "#tasks/medialive/delete-channel.ts";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import type * as startChannel from "#tasks/medialive/start-channel.ts";
import type * as stopChannel from "#tasks/medialive/stop-channel.ts";
import type * as deleteChannelAndAwait from "#tasks/waits/delete-channel-and-await.ts";
import type * as startChannelAndAwait from "#tasks/waits/start-channel-and-await.ts";
import type * as stopChannelAndAwait from "#tasks/waits/stop-channel-and-await.ts";
import { CHANNEL_NOT_READY_RETRY } from "./retry.ts";
import type { Ref } from "./state.ts";
import { type TaskFunctions, taskState } from "./task-state.ts";
import { awaitedBy, WaitForState, waitMode } from "./wait-for-state.ts";
import type { WaitSpec } from "./waits.ts";

export interface ChannelActionAndWaitProps {
  readonly fns: TaskFunctions;
  readonly channelId: Ref<string>;
  /** Title of the action's state. */
  readonly title: string;
  /** Prefix of the wait's states, so the pair can be used twice in one machine. Default: none. */
  readonly prefix?: string;
}

/** An action on a channel and the wait for its result, in both wait modes. */
export interface ChannelAction {
  readonly spec: WaitSpec;
  /** The action as a task (polling mode). */
  readonly task: typeof startChannel.task | typeof stopChannel.task | typeof deleteChannel.task;
  /** The action as the wait's first round (event mode): registers the wait, then acts. */
  readonly round:
    | typeof startChannelAndAwait.task
    | typeof stopChannelAndAwait.task
    | typeof deleteChannelAndAwait.task;
}

/**
 * The action (a channel in a transitional state is retried), then the wait for its result. In
 * event mode the action is the wait's first round: it registers the wait before it acts, so the
 * events of its own action find it. The wait ends in Fail states: wrap the chain in a Parallel to
 * catch them.
 */
export function channelActionAndWait(
  scope: Construct,
  id: string,
  action: ChannelAction,
  props: ChannelActionAndWaitProps,
): sfn.Chain {
  const events = waitMode(scope) === "events";
  const wait = new WaitForState(scope, id, {
    spec: action.spec,
    fns: props.fns,
    awaited: { describe: describeChannel.task, channelId: props.channelId },
    ...(props.prefix ? { prefix: props.prefix } : {}),
    ...(events
      ? {
          firstRound: {
            title: props.title,
            awaiter: awaitedBy(
              action.round,
              { channelId: props.channelId },
              { extraRetries: [CHANNEL_NOT_READY_RETRY] },
            ),
          },
        }
      : {}),
  });
  if (events) return sfn.Chain.start(wait);
  return taskState(scope, props.fns, props.title, {
    task: action.task,
    payload: { channelId: props.channelId },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [CHANNEL_NOT_READY_RETRY],
  }).next(wait);
}
