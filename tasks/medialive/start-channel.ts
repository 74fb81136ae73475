import { StartChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { channelState } from "#lib/aws/medialive.ts";
import { errorName, TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const StartChannelInput = z.object({ channelId: z.string().min(1) });
export type StartChannelInput = z.infer<typeof StartChannelInput>;
export interface StartChannelOutput {
  /** False when the channel was already starting or running (nothing was started twice). */
  readonly started: boolean;
  readonly state: string;
}

/**
 * Starts the channel unless it is already on its way up. A start that races another (Conflict)
 * is fine when the channel is now starting or running; a channel in a transitional state makes
 * the task fail with `ChannelNotReady`, which the state retries after a pause.
 */
export async function startChannel(
  input: StartChannelInput,
  { signal }: TaskContext,
): Promise<StartChannelOutput> {
  const state = await channelState(input.channelId, signal);
  if (state === "RUNNING" || state === "STARTING" || state === "RECOVERING") return { started: false, state };
  if (state === "DELETED")
    throw new TaskError(TaskErrors.ChannelNotFound, `Channel ${input.channelId} does not exist`);
  if (state !== "IDLE") {
    if (state === "CREATE_FAILED" || state === "UPDATE_FAILED") {
      throw new TaskError(TaskErrors.ChannelFailed, `Channel ${input.channelId} is ${state}`);
    }
    throw new TaskError(TaskErrors.ChannelNotReady, `Channel ${input.channelId} is ${state}, not IDLE`);
  }
  try {
    const res = await medialive().send(new StartChannelCommand({ ChannelId: input.channelId }), {
      abortSignal: signal,
    });
    return { started: true, state: res.State ?? "STARTING" };
  } catch (err) {
    if (errorName(err) !== "ConflictException") throw err;
    const now = await channelState(input.channelId, signal);
    if (now === "RUNNING" || now === "STARTING") return { started: false, state: now };
    throw err;
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
