import { UpdateChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { channelState } from "#lib/aws/medialive.ts";
import { readStreamKey } from "#lib/aws/stream-keys.ts";
import { destinationSettings } from "#lib/destinations/channel-plan.ts";
import { getHeldDestination } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { activeTarget } from "./ensure-destination-channel.ts";

export const UpdateDestinationChannelInput = z.object({
  destinationId: z.string().min(1),
  executionArn: z.string().min(1),
});
export type UpdateDestinationChannelInput = z.infer<typeof UpdateDestinationChannelInput>;
export interface UpdateDestinationChannelOutput {
  readonly state: string;
}

/**
 * Writes the destination's current settings (active URL, its stream key from SSM, preset) into
 * its channel. MediaLive edits IDLE channels only: a channel in another state fails the task
 * with `ChannelNotReady` (retried); the lifecycle stops a running channel first.
 */
export async function updateDestinationChannel(
  input: UpdateDestinationChannelInput,
  { signal }: TaskContext,
): Promise<UpdateDestinationChannelOutput> {
  const { destinationId, executionArn } = input;
  const d = await getHeldDestination(destinationId, executionArn, ["updating"]);
  const channelId = d.mediaLive.channelId;
  if (!channelId)
    throw new TaskError(TaskErrors.ChannelNotFound, `Destination ${destinationId} has no channel`);
  const state = await channelState(channelId, signal);
  if (state === "DELETED")
    throw new TaskError(TaskErrors.ChannelNotFound, `Channel ${channelId} does not exist`);
  if (state !== "IDLE")
    throw new TaskError(
      TaskErrors.ChannelNotReady,
      `Channel ${channelId} is ${state}; MediaLive edits IDLE channels only`,
    );
  const target = activeTarget(d);
  const settings = destinationSettings({
    preset: d.preset,
    url: target.url,
    streamKey: await readStreamKey(target.keyParameter, signal),
  });
  const res = await medialive().send(new UpdateChannelCommand({ ChannelId: channelId, ...settings }), {
    abortSignal: signal,
  });
  return { state: res.Channel?.State ?? "UPDATING" };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "update-destination-channel",
  entry: import.meta.url,
  input: UpdateDestinationChannelInput,
  table: "read",
  grants: [
    { actions: ["medialive:UpdateChannel", "medialive:DescribeChannel"], on: "medialive" },
    { actions: ["ssm:GetParameter"], on: "stream-keys" },
  ],
  run: updateDestinationChannel,
});

export const handler = task.handler;
