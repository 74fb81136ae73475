import * as action from "#tasks/medialive/stop-channel.ts";
import { channelActionRound } from "./channel-round.ts";

/**
 * The first round of "wait for stopped" in event mode: registers the wait, then stops the channel
 * as `stop-channel` does (idempotent); a channel already at rest completes it at once.
 */
export const task = channelActionRound({
  name: "stop-channel-and-await",
  entry: import.meta.url,
  action: action.task,
});

export const handler = task.handler;
