import { DeleteChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { channelState } from "#lib/aws/medialive.ts";
import { errorName, isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const DeleteChannelInput = z.object({ channelId: z.string().min(1) });
export type DeleteChannelInput = z.infer<typeof DeleteChannelInput>;
export interface DeleteChannelOutput {
  readonly deleted: boolean;
  /** DELETING once MediaLive took the delete, DELETED when the channel is gone. */
  readonly state: string;
}

/**
 * Deletes a stopped channel; idempotent (gone or already deleting counts as done). MediaLive
 * refuses to delete a channel that is not IDLE: that surfaces as `ChannelNotReady` for a retry.
 */
export async function deleteChannel(
  input: DeleteChannelInput,
  { signal }: TaskContext,
): Promise<DeleteChannelOutput> {
  try {
    const res = await medialive().send(new DeleteChannelCommand({ ChannelId: input.channelId }), {
      abortSignal: signal,
    });
    return { deleted: true, state: res.State ?? "DELETING" };
  } catch (err) {
    if (isNotFound(err)) return { deleted: false, state: "DELETED" };
    if (errorName(err) === "ConflictException") {
      const state = await channelState(input.channelId, signal);
      if (state === "DELETING" || state === "DELETED") return { deleted: false, state };
      throw new TaskError(
        TaskErrors.ChannelNotReady,
        `Channel ${input.channelId} is ${state}; it must be IDLE to delete`,
      );
    }
    throw err;
  }
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "delete-channel",
  entry: import.meta.url,
  input: DeleteChannelInput,
  grants: [{ actions: ["medialive:DeleteChannel", "medialive:DescribeChannel"], on: "medialive" }],
  run: deleteChannel,
});

export const handler = task.handler;
