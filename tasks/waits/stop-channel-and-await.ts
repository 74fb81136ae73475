import { stopChannel } from "#tasks/medialive/stop-channel.ts";
import { channelActionRound } from "./channel-round.ts";

/**
 * The first round of "wait for stopped" in event mode: registers the wait, then stops the channel
 * as `stop-channel` does (idempotent); a channel already at rest completes it at once.
 */
export const task = channelActionRound({
  name: "stop-channel-and-await",
  entry: import.meta.url,
  actions: ["medialive:StopChannel", "medialive:DescribeChannel"],
  act: stopChannel,
});

export const handler = task.handler;
