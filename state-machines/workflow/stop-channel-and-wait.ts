import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import * as stopChannel from "#tasks/medialive/stop-channel.ts";
import * as stopChannelAndAwait from "#tasks/waits/stop-channel-and-await.ts";
import { channelActionAndWait } from "./act-and-wait.ts";
import type { Ref } from "./state.ts";
import type { TaskFunctions } from "./task-state.ts";
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
 * Stop Channel → Wait For Channel Stopped: what stopping, tearing down and re-pointing a MediaLive
 * channel all begin with (see `channelActionAndWait`).
 */
export function stopChannelAndWait(scope: Construct, id: string, props: StopChannelAndWaitProps): sfn.Chain {
  return channelActionAndWait(
    scope,
    id,
    { spec: WAIT_CHANNEL_STOPPED, task: stopChannel.task, round: stopChannelAndAwait.task },
    {
      fns: props.fns,
      channelId: props.channelId,
      title: props.title ?? "Stop Channel",
      ...(props.prefix ? { prefix: props.prefix } : {}),
    },
  );
}
