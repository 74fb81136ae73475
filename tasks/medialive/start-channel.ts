import { StartChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { channelState, isGone, isStateRefusal } from "#lib/aws/medialive.ts";
import { isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const StartChannelInput = z.object({ channelId: z.string().min(1) });
export type StartChannelInput = z.infer<typeof StartChannelInput>;
export interface StartChannelOutput {
  /** False when the channel was already starting or running (nothing was started twice). */
  readonly started: boolean;
  readonly state: string;
}

/** States in which the channel is on its way up or up: nothing to start. */
const UP = new Set(["STARTING", "RUNNING", "RECOVERING"]);

/**
 * Starts the channel; idempotent. It asks MediaLive to start first and describes the channel only
 * when MediaLive refuses (one call, not two, in the usual case: the step before saw it IDLE). A
 * channel already starting or running counts as started by someone else; one still creating,
 * updating or stopping fails with `ChannelNotReady`, which the state retries after a pause.
 */
export async function startChannel(
  input: StartChannelInput,
  { signal }: TaskContext,
): Promise<StartChannelOutput> {
  const { channelId } = input;
  const start = async () => {
    const res = await medialive().send(new StartChannelCommand({ ChannelId: channelId }), {
      abortSignal: signal,
    });
    return { started: true, state: res.State ?? "STARTING" };
  };
  try {
    return await start();
  } catch (err) {
    if (isNotFound(err))
      throw new TaskError(TaskErrors.ChannelNotFound, `Channel ${channelId} does not exist`);
    if (!isStateRefusal(err)) throw err;
    // Refused: the channel's state says whether that is done, not yet possible, or never.
    const state = await channelState(channelId, signal);
    if (UP.has(state)) return { started: false, state };
    if (isGone(state)) throw new TaskError(TaskErrors.ChannelNotFound, `Channel ${channelId} is ${state}`);
    if (state === "CREATE_FAILED" || state === "UPDATE_FAILED")
      throw new TaskError(TaskErrors.ChannelFailed, `Channel ${channelId} is ${state}`);
    if (state !== "IDLE")
      throw new TaskError(TaskErrors.ChannelNotReady, `Channel ${channelId} is ${state}, not IDLE`);
    // IDLE now: it may have become IDLE since the refusal (the end of a create or an update), so
    // ask once more; refused again, the refusal was not about its state.
    return await start();
  }
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "start-channel",
  entry: import.meta.url,
  input: StartChannelInput,
  grants: [{ actions: ["medialive:StartChannel", "medialive:DescribeChannel"], on: "medialive" }],
  run: startChannel,
});

export const handler = task.handler;
