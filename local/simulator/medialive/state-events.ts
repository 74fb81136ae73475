/**
 * "MediaLive Channel State Change" events, in the shape of AWS's example (MediaLive user guide,
 * monitoring-cloudwatch-json-state-change): `detail: {channel_arn, state, message,
 * pipelines_running_count}`. The event vocabulary is not DescribeChannel's: a channel that becomes
 * IDLE after CREATING is CREATED, after STOPPING it is STOPPED; DELETED is the end of a delete.
 * UPDATING and the end of an update send nothing ("This state is captured on the console but not
 * in Amazon CloudWatch events", user guide, monitor-activity-types-channel).
 */
import { awsEvent, eventTimeAt, type SimEvent } from "#local/simulator/events.ts";
import type { MlChannel, MlChannelState, SimContext } from "#local/simulator/store.ts";
import { pipelineCount } from "./alerts.ts";

export const CHANNEL_STATE_CHANGE = "MediaLive Channel State Change";

/** The `state` of a channel state-change event. */
export type ChannelEventState =
  | "CREATED"
  | "CREATE_FAILED"
  | "STARTING"
  | "RUNNING"
  | "RECOVERING"
  | "STOPPING"
  | "STOPPED"
  | "DELETING"
  | "DELETED"
  | "UPDATE_FAILED";

/**
 * The `message` of each event state. "Deleted channel" is AWS's (its example); the others are ours
 * in the same style (unverified).
 */
export const CHANNEL_EVENT_MESSAGES: Readonly<Record<ChannelEventState, string>> = {
  CREATED: "Created channel",
  CREATE_FAILED: "Failed to create channel",
  STARTING: "Starting channel",
  RUNNING: "Started channel",
  RECOVERING: "Recovering channel",
  STOPPING: "Stopping channel",
  STOPPED: "Stopped channel",
  DELETING: "Deleting channel",
  DELETED: "Deleted channel",
  UPDATE_FAILED: "Failed to update channel",
};

/**
 * The event state a channel put in `state` by POST /_sim/medialive/channel-state reports: IDLE is
 * STOPPED (a channel that stops being anything else is idle), CREATING and UPDATING send nothing
 * (undefined), the others keep their name.
 */
export function forcedEventState(state: MlChannelState): ChannelEventState | undefined {
  switch (state) {
    case "IDLE":
      return "STOPPED";
    case "CREATING":
    case "UPDATING":
      return undefined;
    default:
      return state;
  }
}

/**
 * The event for a channel that just reached `state`. `pipelines_running_count`: every pipeline of
 * the channel while RUNNING (2 for STANDARD, 1 for SINGLE_PIPELINE), else 0. `time`: now, with
 * milliseconds when the simulator runs faster than AWS (eventTimeAt).
 */
export function channelStateEvent(
  channel: MlChannel,
  state: ChannelEventState,
  ctx: Pick<SimContext, "accountId" | "region" | "store">,
  now = new Date(),
): SimEvent {
  return awsEvent(ctx, {
    detailType: CHANNEL_STATE_CHANGE,
    source: "aws.medialive",
    resource: channel.arn,
    time: eventTimeAt(now.toISOString(), ctx.store.timeScale),
    detail: {
      channel_arn: channel.arn,
      state,
      message: CHANNEL_EVENT_MESSAGES[state],
      pipelines_running_count: state === "RUNNING" ? pipelineCount(channel) : 0,
    },
  });
}
