import { CHANNEL_STATE_EVENT_FIELDS, task } from "#tasks/waits/wake-channel-waits.ts";
import { defineReaction } from "./define.ts";

/**
 * A MediaLive channel changed state: end the waits on it (state-machines/workflow/wait-for-state.ts
 * in event mode), so a lifecycle goes on when the channel is RUNNING, not at its next poll.
 */
export const channelState = defineReaction({
  name: "channel-state",
  description: "End the lifecycle waits on a MediaLive channel when it changes state",
  pattern: { source: ["aws.medialive"], "detail-type": ["MediaLive Channel State Change"] },
  task,
  fields: CHANNEL_STATE_EVENT_FIELDS,
  starts: [],
  onlyWhenWaitsAre: "events",
});
