import {
  DeleteChannelCommand,
  DeleteStreamKeyCommand,
  GetStreamCommand,
  ListStreamKeysCommand,
  StopStreamCommand,
} from "@aws-sdk/client-ivs";
import * as z from "zod";
import { ivs } from "../lib/clients.ts";
import { errorName, isNotFound, TaskError, TaskErrors } from "../lib/errors.ts";
import { logger } from "../lib/logger.ts";
import { type TaskContext, taskHandler } from "../lib/task.ts";

export const DeleteIvsChannelInput = z.object({ channelArn: z.string().min(1) });
export type DeleteIvsChannelInput = z.infer<typeof DeleteIvsChannelInput>;
export interface DeleteIvsChannelOutput {
  readonly deleted: boolean;
  /** True when a live stream had to be stopped first. */
  readonly stoppedStream: boolean;
}

/** True when IVS says the channel is not broadcasting (or is gone). */
const offline = (err: unknown) => errorName(err) === "ChannelNotBroadcasting" || isNotFound(err);

/**
 * Deletes a temporary IVS channel (a session's relay or legacy program channel); idempotent.
 * IVS refuses to delete a channel that is live (409), so a live stream is ended first: the
 * stream keys are revoked (encoders often reconnect) and the stream stopped. A 409 that still
 * comes back is `IvsChannelBusy`, retried by the state, never ignored.
 */
export async function deleteIvsChannel(
  input: DeleteIvsChannelInput,
  { signal }: TaskContext,
): Promise<DeleteIvsChannelOutput> {
  const { channelArn } = input;
  let stoppedStream = false;
  try {
    await ivs().send(new GetStreamCommand({ channelArn }), { abortSignal: signal });
    const keys = await ivs().send(new ListStreamKeysCommand({ channelArn }), { abortSignal: signal });
    for (const key of keys.streamKeys ?? []) {
      if (!key.arn) continue;
      try {
        await ivs().send(new DeleteStreamKeyCommand({ arn: key.arn }), { abortSignal: signal });
      } catch (err) {
        if (!isNotFound(err)) throw err; // already revoked: go on to stop the stream
      }
    }
    await ivs().send(new StopStreamCommand({ channelArn }), { abortSignal: signal });
    stoppedStream = true;
    logger.info("Stopped a live stream before deleting its channel", { channelArn });
  } catch (err) {
    if (!offline(err)) throw err;
  }
  try {
    await ivs().send(new DeleteChannelCommand({ arn: channelArn }), { abortSignal: signal });
    return { deleted: true, stoppedStream };
  } catch (err) {
    if (isNotFound(err)) return { deleted: false, stoppedStream };
    if (errorName(err) === "ConflictException") {
      throw new TaskError(
        TaskErrors.IvsChannelBusy,
        `IVS channel ${channelArn} is still live; delete refused`,
      );
    }
    throw err;
  }
}

export const handler = taskHandler("delete-ivs-channel", DeleteIvsChannelInput, deleteIvsChannel);
