import { StopChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "../lib/clients.ts";
import { errorName, isNotFound, TaskError, TaskErrors } from "../lib/errors.ts";
import { channelState } from "../lib/medialive.ts";
import { type TaskContext, taskHandler } from "../lib/task.ts";

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

export const handler = taskHandler("stop-channel", StopChannelInput, stopChannel);
