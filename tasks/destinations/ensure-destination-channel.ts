import { CreateChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import {
  asQuotaError,
  channelState,
  findChannelsByTags,
  inputNotAttachable,
  inputState,
  isGone,
} from "#lib/aws/medialive.ts";
import { readStreamKey } from "#lib/aws/stream-keys.ts";
import { config } from "#lib/config.ts";
import { buildDestinationChannel } from "#lib/destinations/channel-plan.ts";
import { type Destination, DestinationTags } from "#lib/destinations/model.ts";
import { getHeldDestination, updateHeldDestination } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags, Tags } from "#lib/sessions/model.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const EnsureDestinationChannelInput = z.object({
  destinationId: z.string().min(1),
  executionArn: z.string().min(1),
  executionName: z.string().min(1),
});
export type EnsureDestinationChannelInput = z.infer<typeof EnsureDestinationChannelInput>;
export interface EnsureDestinationChannelOutput {
  readonly channelId: string;
}

/** Where the destination pushes now (its active URL) and the SSM parameter of that URL's key. */
export function activeTarget(d: Destination): { url: string; keyParameter: string } {
  if (d.activeUrl === "backup" && d.backupRtmpUrl)
    return { url: d.backupRtmpUrl, keyParameter: d.backupStreamKeyParameter ?? d.streamKeyParameter };
  return { url: d.rtmpUrl, keyParameter: d.streamKeyParameter };
}

/**
 * The destination's own SINGLE_PIPELINE channel on its input, pushing to its active URL. The
 * stream key is read from SSM here, and only here (and in the update task): it goes into the
 * CreateChannel request and nowhere else. Request id from the execution, so a retry returns the
 * same channel; recorded on the destination at once.
 */
export async function ensureDestinationChannel(
  input: EnsureDestinationChannelInput,
  { signal }: TaskContext,
): Promise<EnsureDestinationChannelOutput> {
  const { destinationId, executionArn, executionName } = input;
  const d = await getHeldDestination(destinationId, executionArn, ["creating"]);
  const known = d.mediaLive.channelId;
  if (known && (await channelState(known, signal)) !== "DELETED") return { channelId: known };
  const inputId = d.mediaLive.inputId;
  if (!inputId) throw new TaskError(TaskErrors.ChannelNotFound, `Destination ${destinationId} has no input`);
  const state = await inputState(inputId, signal);
  const refusal = inputNotAttachable(
    inputId,
    state,
    (message) =>
      new TaskError(TaskErrors.ChannelNotFound, `${message}: destination ${destinationId} lost its input`),
  );
  // A channel created by an earlier attempt whose record write was lost (or whose Lambda died):
  // found by its tag and recorded, never created twice. A new input (CREATING: retried after 1 s,
  // then less often) or a gone one carries none, and is not looked for.
  if (state !== "CREATING" && !isGone(state)) {
    const [made] = await findChannelsByTags({ [DestinationTags.destinationId]: destinationId }, signal);
    if (made?.Id && made.Arn) return await record(destinationId, executionArn, made.Id, made.Arn);
  }
  if (refusal) throw refusal;
  const target = activeTarget(d);
  const request = buildDestinationChannel({
    name: `castflow-dest-${destinationId}`,
    inputId,
    roleArn: config().MEDIALIVE_ROLE_ARN,
    preset: d.preset,
    url: target.url,
    streamKey: await readStreamKey(target.keyParameter, signal),
    requestId: `${executionName}-channel`,
    tags: {
      ...managedTags(),
      [DestinationTags.destinationId]: destinationId,
      [DestinationTags.sourceId]: d.sourceId,
      [Tags.createdBy]: executionName,
    },
  });
  const res = await medialive()
    .send(new CreateChannelCommand(request), { abortSignal: signal })
    .catch((err: unknown) => {
      throw asQuotaError(err, "a channel");
    });
  const ch = res.Channel;
  if (!ch?.Id || !ch.Arn) throw new Error("CreateChannel returned a channel without an id");
  logger.info("Created MediaLive channel", { destinationId, channelId: ch.Id });
  return await record(destinationId, executionArn, ch.Id, ch.Arn);
}

async function record(
  destinationId: string,
  executionArn: string,
  channelId: string,
  channelArn: string,
): Promise<EnsureDestinationChannelOutput> {
  await updateHeldDestination(destinationId, executionArn, "creating", {
    set: { "mediaLive.channelId": channelId, "mediaLive.channelArn": channelArn },
  });
  return { channelId };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "ensure-destination-channel",
  entry: import.meta.url,
  input: EnsureDestinationChannelInput,
  table: "write",
  grants: [
    {
      actions: [
        "medialive:CreateChannel",
        "medialive:DescribeChannel",
        "medialive:DescribeInput",
        "medialive:CreateTags",
      ],
      on: "medialive",
    },
    // Finding a channel an earlier attempt created (ListChannels is not resource-scoped).
    { actions: ["medialive:ListChannels"], on: "*" },
    { actions: ["ssm:GetParameter"], on: "stream-keys" },
    { actions: ["iam:PassRole"], on: "medialive-role" },
  ],
  run: ensureDestinationChannel,
});

export const handler = task.handler;
