import * as action from "#tasks/medialive/delete-channel.ts";
import { channelActionRound } from "./channel-round.ts";

/**
 * The first round of "wait for the channel deleted" in event mode: registers the wait, then
 * deletes the channel as `delete-channel` does (idempotent); a channel already gone completes it
 * at once.
 */
export const task = channelActionRound({
  name: "delete-channel-and-await",
  entry: import.meta.url,
  action: action.task,
});

export const handler = task.handler;
