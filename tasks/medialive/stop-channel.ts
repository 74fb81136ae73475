import { StopChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { channelState } from "#lib/aws/medialive.ts";
import { errorName, isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const StopChannelInput = z.object({ channelId: z.string().min(1) });
export type StopChannelInput = z.infer<typeof StopChannelInput>;
export interface StopChannelOutput {
  /** False when there was nothing to stop (idle, already stopping, or gone). */
  readonly stopped: boolean;
  readonly state: string;
}

const STOPPABLE = new Set(["RUNNING", "RECOVERING"]);
const AT_REST = new Set(["IDLE", "STOPPING", "DELETING", "DELETED", "CREATE_FAILED", "UPDATE_FAILED"]);

/**
 * Stops the channel; idempotent. A channel still starting (or creating/updating) cannot be
 * stopped yet: `ChannelNotReady`, retried by the state until it settles.
 */
export async function stopChannel(
  input: StopChannelInput,
  { signal }: TaskContext,
): Promise<StopChannelOutput> {
  const state = await channelState(input.channelId, signal);
  if (AT_REST.has(state)) return { stopped: false, state };
  if (!STOPPABLE.has(state)) {
    throw new TaskError(
      TaskErrors.ChannelNotReady,
      `Channel ${input.channelId} is ${state}; it can be stopped once it settles`,
    );
  }
  try {
    const res = await medialive().send(new StopChannelCommand({ ChannelId: input.channelId }), {
      abortSignal: signal,
    });
    return { stopped: true, state: res.State ?? "STOPPING" };
  } catch (err) {
    if (isNotFound(err)) return { stopped: false, state: "DELETED" };
    if (errorName(err) === "ConflictException") {
      const now = await channelState(input.channelId, signal);
      if (AT_REST.has(now)) return { stopped: false, state: now };
      throw new TaskError(
        TaskErrors.ChannelNotReady,
        `Channel ${input.channelId} is ${now}; stop refused for now`,
      );
    }
    throw err;
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
