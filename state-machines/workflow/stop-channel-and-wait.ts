import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import * as stopChannel from "#tasks/medialive/stop-channel.ts";
import * as stopChannelAndAwait from "#tasks/waits/stop-channel-and-await.ts";
import { CHANNEL_NOT_READY_RETRY } from "./retry.ts";
import type { Ref } from "./state.ts";
import { type TaskFunctions, taskState } from "./task-state.ts";
import { awaitedBy, type EventAwaiter, WaitForState, waitMode } from "./wait-for-state.ts";
import { WAIT_CHANNEL_STOPPED } from "./waits.ts";

export interface StopChannelAndWaitProps {
  readonly fns: TaskFunctions;
  readonly channelId: Ref<string>;
  /** Title of the stop state. Default: "Stop Channel". */
  readonly title?: string;
  /** Prefix of the wait's states, so the pair can be used twice in one machine. Default: none. */
  readonly prefix?: string;
}

/**
 * Stop Channel (a channel in a transitional state is retried) → Wait For Channel Stopped: what
 * stopping, tearing down and re-pointing a MediaLive channel all begin with. In event mode "Stop
 * Channel" is the wait's first round: it registers the wait before it stops the channel. The wait
 * ends in Fail states: wrap the chain in a Parallel to catch them.
 */
export function stopChannelAndWait(scope: Construct, id: string, props: StopChannelAndWaitProps): sfn.Chain {
  const title = props.title ?? "Stop Channel";
  const wait = (firstRound?: { title: string; awaiter: EventAwaiter }) =>
    new WaitForState(scope, id, {
      spec: WAIT_CHANNEL_STOPPED,
      fns: props.fns,
      awaited: { describe: describeChannel.task, channelId: props.channelId },
      ...(props.prefix ? { prefix: props.prefix } : {}),
      ...(firstRound ? { firstRound } : {}),
    });
  if (waitMode(scope) === "events")
    return sfn.Chain.start(
      wait({
        title,
        awaiter: awaitedBy(
          stopChannelAndAwait.task,
          { channelId: props.channelId },
          { extraRetries: [CHANNEL_NOT_READY_RETRY] },
        ),
      }),
    );
  const stop = taskState(scope, props.fns, title, {
    task: stopChannel.task,
    payload: { channelId: props.channelId },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [CHANNEL_NOT_READY_RETRY],
  });
  return stop.next(wait());
}
