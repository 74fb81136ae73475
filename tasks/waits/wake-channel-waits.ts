import { channelStateOfEvent } from "#lib/aws/medialive.ts";
import { wakeTask } from "./wake.ts";

/** A MediaLive channel changed state ("MediaLive Channel State Change"): end the waits it ends. */
export const { task, fields: CHANNEL_STATE_EVENT_FIELDS } = wakeTask({
  name: "wake-channel-waits",
  entry: import.meta.url,
  kind: "channel",
  paths: { state: "$.detail.state", resourceArn: "$.detail.channel_arn" },
  idOf: (arn) => arn.split(":").pop() ?? "",
  stateOf: channelStateOfEvent,
});

export const handler = task.handler;
