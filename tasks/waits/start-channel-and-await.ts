import * as action from "#tasks/medialive/start-channel.ts";
import { channelActionRound } from "./channel-round.ts";

/**
 * The first round of "wait for RUNNING" in event mode: registers the wait, then starts the
 * channel as `start-channel` does (one describe; nothing started twice). STARTING keeps it waiting
 * for the RUNNING event; a channel already RUNNING completes it at once.
 */
export const task = channelActionRound({
  name: "start-channel-and-await",
  entry: import.meta.url,
  action: action.task,
});

export const handler = task.handler;
