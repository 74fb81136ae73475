import * as z from "zod";
import { channelStateOfEvent } from "#lib/aws/medialive.ts";
import { wakeWaiters } from "#lib/waits.ts";
import { defineTask } from "#tasks/define.ts";

/** The fields of a "MediaLive Channel State Change" event this task needs (its rule's input transformer). */
export const CHANNEL_STATE_EVENT_FIELDS = {
  time: "$.time",
  state: "$.detail.state",
  channelArn: "$.detail.channel_arn",
} as const;

/**
 * A channel changed state: complete the waits registered on it that this state ends
 * (lib/waits.ts). A late, repeated or out-of-order event wakes nothing it should not: it is
 * compared with each registration's time and pending states, and a wait already ended refuses it.
 */
export const task = defineTask({
  name: "wake-channel-waits",
  entry: import.meta.url,
  input: z.object({
    time: z.string(),
    state: z.string().min(1),
    channelArn: z.string().startsWith("arn:"),
  }),
  table: "waits",
  grants: [{ actions: ["states:SendTaskSuccess"], on: "state-machines" }],
  run: async (event) => {
    const channelId = event.channelArn.split(":").pop() ?? "";
    return wakeWaiters("channel", channelId, channelStateOfEvent(event.state), event.time);
  },
});

export const handler = task.handler;
