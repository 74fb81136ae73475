import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import * as startChannel from "#tasks/medialive/start-channel.ts";
import * as startChannelAndAwait from "#tasks/waits/start-channel-and-await.ts";
import { channelActionAndWait } from "./act-and-wait.ts";
import type { Ref } from "./state.ts";
import type { TaskFunctions } from "./task-state.ts";
import { WAIT_CHANNEL_RUNNING } from "./waits.ts";

export interface StartChannelAndWaitProps {
  readonly fns: TaskFunctions;
  readonly channelId: Ref<string>;
  /** Title of the start state. Default: "Start Channel". */
  readonly title?: string;
}

/**
 * Start Channel (one already starting or running is left as it is) → Wait For Channel Running:
 * how go-live, a destination start, an update of a running destination and a shared channel all
 * bring a channel up (see `channelActionAndWait`).
 */
export function startChannelAndWait(
  scope: Construct,
  id: string,
  props: StartChannelAndWaitProps,
): sfn.Chain {
  return channelActionAndWait(
    scope,
    id,
    { spec: WAIT_CHANNEL_RUNNING, task: startChannel.task, round: startChannelAndAwait.task },
    { fns: props.fns, channelId: props.channelId, title: props.title ?? "Start Channel" },
  );
}
