import { StopChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { channelState, isStateRefusal } from "#lib/aws/medialive.ts";
import { isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const StopChannelInput = z.object({ channelId: z.string().min(1) });
export type StopChannelInput = z.infer<typeof StopChannelInput>;
export interface StopChannelOutput {
  /** False when there was nothing to stop (idle, already stopping, or gone). */
  readonly stopped: boolean;
  readonly state: string;
}

const AT_REST = new Set(["IDLE", "STOPPING", "DELETING", "DELETED", "CREATE_FAILED", "UPDATE_FAILED"]);

/**
 * Stops the channel; idempotent. It asks MediaLive to stop first and describes the channel only
 * when MediaLive refuses (one call, not two, in the usual case). A channel at rest (idle, stopping,
 * deleting, gone or failed) has nothing to stop; one still starting (or creating, updating) cannot
 * be stopped yet: `ChannelNotReady`, retried by the state until it settles.
 */
export async function stopChannel(
  input: StopChannelInput,
  { signal }: TaskContext,
): Promise<StopChannelOutput> {
  const { channelId } = input;
  try {
    const res = await medialive().send(new StopChannelCommand({ ChannelId: channelId }), {
      abortSignal: signal,
    });
    const state = res.State ?? "STOPPING";
    return { stopped: state !== "IDLE", state };
  } catch (err) {
    if (isNotFound(err)) return { stopped: false, state: "DELETED" };
    if (!isStateRefusal(err)) throw err;
    const state = await channelState(channelId, signal);
    if (AT_REST.has(state)) return { stopped: false, state };
    throw new TaskError(
      TaskErrors.ChannelNotReady,
      `Channel ${channelId} is ${state}; stop refused for now, asked again once it settles`,
    );
  }
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "stop-channel",
  entry: import.meta.url,
  input: StopChannelInput,
  grants: [{ actions: ["medialive:StopChannel", "medialive:DescribeChannel"], on: "medialive" }],
  run: stopChannel,
});

export const handler = task.handler;
