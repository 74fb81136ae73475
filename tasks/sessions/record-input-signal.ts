import * as z from "zod";
import { channelNoInputSince, clearNoInput, NO_INPUT_ALERT, putNoInput } from "#lib/sessions/input-signal.ts";
import { isManagedIn, Tags } from "#lib/sessions/model.ts";
import { defineTask } from "#tasks/define.ts";

/** The fields of a `MediaLive Channel Alert` event this reaction needs (its rule's input transformer). */
export const SIGNAL_ALERT_FIELDS = {
  time: "$.time",
  alarmState: "$.detail.alarm_state",
  alertType: "$.detail.alert_type",
  channelArn: "$.detail.channel_arn",
} as const;

export type SignalOutcome =
  | { outcome: "ignored"; reason: string }
  | { outcome: "no-input"; sessionId: string; channelId: string; since: string }
  | { outcome: "receiving"; sessionId: string; channelId: string };

/**
 * A session channel's "RTMP Has No Audio/Video" alert was set or cleared: reads the channel's
 * alerts now and records whether it receives anything (lib/sessions/input-signal.ts). The event
 * only says where to look, so a late, repeated or out-of-order one writes the same truth.
 */
export const recordInputSignal = defineTask({
  name: "record-input-signal",
  entry: import.meta.url,
  input: z.object({
    time: z.string(),
    alarmState: z.enum(["SET", "CLEARED"]),
    alertType: z.string(),
    channelArn: z.string().startsWith("arn:"),
  }),
  table: "write",
  grants: [{ actions: ["medialive:DescribeChannel", "medialive:ListAlerts"], on: "medialive" }],
  run: async (event, { signal }): Promise<SignalOutcome> => {
    if (event.alertType !== NO_INPUT_ALERT)
      return { outcome: "ignored", reason: `alert type ${event.alertType} is not about input` };
    const channelId = event.channelArn.split(":").pop() ?? "";
    const { since, tags } = await channelNoInputSince(channelId, signal);
    const sessionId = tags[Tags.sessionId];
    if (!sessionId || !isManagedIn(tags)) {
      // A gone channel has no tags: whatever was recorded about it no longer matters.
      await clearNoInput(channelId);
      return { outcome: "ignored", reason: "not a session channel of this stage (or gone)" };
    }
    if (!since) {
      await clearNoInput(channelId);
      return { outcome: "receiving", sessionId, channelId };
    }
    await putNoInput({
      channelId,
      sessionId,
      since: since.toISOString(),
      observedAt: new Date().toISOString(),
    });
    return { outcome: "no-input", sessionId, channelId, since: since.toISOString() };
  },
});

export const handler = recordInputSignal.handler;
