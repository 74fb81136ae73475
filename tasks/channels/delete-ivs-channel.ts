import * as z from "zod";
import { type DeletedIvsChannel, deleteIvsChannel as deleteChannel } from "#lib/aws/ivs.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const DeleteIvsChannelInput = z.object({ channelArn: z.string().min(1) });
export type DeleteIvsChannelInput = z.infer<typeof DeleteIvsChannelInput>;
export type DeleteIvsChannelOutput = DeletedIvsChannel;

/**
 * Deletes a session's temporary IVS channel (its relay or legacy program channel), ending a live
 * stream first; idempotent. A 409 that still comes back is `IvsChannelBusy`, retried by the
 * state. The task's role may delete only channels tagged `castflow:role` relay or program.
 */
export function deleteIvsChannel(
  input: DeleteIvsChannelInput,
  { signal }: TaskContext,
): Promise<DeleteIvsChannelOutput> {
  return deleteChannel(input.channelArn, { signal, onlyRoles: ["relay", "program"] });
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "delete-ivs-channel",
  entry: import.meta.url,
  input: DeleteIvsChannelInput,
  grants: [
    // GetChannel: the role tag is checked before anything is revoked (stream keys carry no tags).
    { actions: ["ivs:GetChannel", "ivs:GetStream", "ivs:ListStreamKeys", "ivs:DeleteStreamKey"], on: "ivs" },
    // Stopping and deleting only channels castflow created for one session: never a persistent one.
    { actions: ["ivs:StopStream", "ivs:DeleteChannel"], on: "ivs", onlyRoles: ["relay", "program"] },
  ],
  run: deleteIvsChannel,
});

export const handler = task.handler;
