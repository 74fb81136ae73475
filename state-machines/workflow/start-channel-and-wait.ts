import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import * as describeChannel from "#tasks/medialive/describe-channel.ts";
import * as startChannel from "#tasks/medialive/start-channel.ts";
import * as startChannelAndAwait from "#tasks/waits/start-channel-and-await.ts";
import { CHANNEL_NOT_READY_RETRY } from "./retry.ts";
import type { Ref } from "./state.ts";
import { type TaskFunctions, taskState } from "./task-state.ts";
import { awaitedBy, type EventAwaiter, WaitForState, waitMode } from "./wait-for-state.ts";
import { WAIT_CHANNEL_RUNNING } from "./waits.ts";

export interface StartChannelAndWaitProps {
  readonly fns: TaskFunctions;
  readonly channelId: Ref<string>;
  /** Title of the start state. Default: "Start Channel". */
  readonly title?: string;
}

/**
 * Start Channel (a channel in a transitional state is retried; one already starting or running is
 * left as it is) → Wait For Channel Running: how go-live, a destination start, an update of a
 * running destination and a shared channel all bring a channel up. In event mode "Start Channel"
 * is the wait's first round: it registers the wait before it starts the channel. The wait ends
 * in Fail states: wrap the chain in a Parallel to catch them.
 */
export function startChannelAndWait(
  scope: Construct,
  id: string,
  props: StartChannelAndWaitProps,
): sfn.Chain {
  const title = props.title ?? "Start Channel";
  const wait = (firstRound?: { title: string; awaiter: EventAwaiter }) =>
    new WaitForState(scope, id, {
      spec: WAIT_CHANNEL_RUNNING,
      fns: props.fns,
      awaited: { describe: describeChannel.task, channelId: props.channelId },
      ...(firstRound ? { firstRound } : {}),
    });
  if (waitMode(scope) === "events")
    return sfn.Chain.start(
      wait({
        title,
        awaiter: awaitedBy(
          startChannelAndAwait.task,
          { channelId: props.channelId },
          { extraRetries: [CHANNEL_NOT_READY_RETRY] },
        ),
      }),
    );
  const start = taskState(scope, props.fns, title, {
    task: startChannel.task,
    payload: { channelId: props.channelId },
    resultPath: sfn.JsonPath.DISCARD,
    extraRetries: [CHANNEL_NOT_READY_RETRY],
  });
  return start.next(wait());
}
