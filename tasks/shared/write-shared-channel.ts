import { CreateChannelCommand, UpdateChannelCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import {
  asQuotaError,
  channelState,
  findChannelsByTags,
  inputNotAttachable,
  inputState,
} from "#lib/aws/medialive.ts";
import { readStreamKey } from "#lib/aws/stream-keys.ts";
import { config } from "#lib/config.ts";
import { DestinationTags } from "#lib/destinations/model.ts";
import {
  activeOutput,
  buildSharedChannel,
  desiredOutputs,
  SHARED_ROLE,
  type SharedOutput,
  sharedChannelSettings,
  toPlanDestination,
} from "#lib/destinations/shared-plan.ts";
import { getHeldSource, holdsSharedChannel } from "#lib/destinations/shared-store.ts";
import { listDestinations, updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags, Tags } from "#lib/sessions/model.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { SharedApplyTaskInput } from "./claim-shared-channel.ts";

export const WriteSharedChannelInput = SharedApplyTaskInput.extend({
  executionName: z.string().min(1),
  iteration: z.number().int().nonnegative(),
});
export type WriteSharedChannelInput = z.infer<typeof WriteSharedChannelInput>;
export interface WriteSharedChannelOutput {
  readonly channelId: string | null;
}

const notHeld = (sourceId: string) =>
  new TaskError(
    TaskErrors.SharedChannelBusy,
    `The shared channel of source ${sourceId} is no longer held by this execution`,
  );

/**
 * Writes the outputs of every destination that wants to run into the shared channel: creates the
 * channel on the source's input if there is none (RequestId from the execution and pass, and a
 * look-up by tag first, so a retry or a re-run finds the channel it made), else updates it, which
 * MediaLive allows only while IDLE (`ChannelNotReady` otherwise, retried: the machine stopped it
 * first). The stream keys are read from SSM here, and only here: they go into the
 * CreateChannel/UpdateChannel request and nowhere else. The source then records the channel and
 * the fingerprints of what it now carries (URL, key parameter and version, preset; never a key).
 */
export async function writeSharedChannel(
  input: WriteSharedChannelInput,
  { signal }: TaskContext,
): Promise<WriteSharedChannelOutput> {
  const { sourceId, executionArn, executionName, iteration } = input;
  const source = await getHeldSource(sourceId, executionArn);
  const { shared } = source;
  const inputId = shared.input?.inputId;
  if (!inputId) throw new TaskError(TaskErrors.SourceUnavailable, `Source ${sourceId} has no channel input`);
  const destinations = (await listDestinations({ sourceId })).filter((d) => d.status !== "deleted");
  const fingerprints = desiredOutputs(destinations.map(toPlanDestination));
  const wanted = destinations.filter((d) => fingerprints[d.destinationId] !== undefined);
  if (wanted.length === 0) {
    // Everyone left since the plan: nothing to write (a channel needs an output); the next pass stops it.
    logger.info("No destination wants the shared channel any more; nothing to write", { sourceId });
    return { channelId: shared.channelId ?? null };
  }
  let channelId = shared.channelId;
  if (channelId && (await channelState(channelId, signal)) === "DELETED") channelId = undefined;
  const tags = {
    ...managedTags(),
    [DestinationTags.sourceId]: sourceId,
    [Tags.role]: SHARED_ROLE.channel,
  };
  if (!channelId) [channelId] = (await findChannelsByTags(tags, signal)).flatMap((c) => (c.Id ? [c.Id] : []));
  if (channelId) {
    const state = await channelState(channelId, signal);
    if (state === "CREATE_FAILED" || state === "UPDATE_FAILED")
      throw new TaskError(TaskErrors.ChannelFailed, `Shared channel ${channelId} is ${state}`);
    if (state !== "IDLE")
      throw new TaskError(
        TaskErrors.ChannelNotReady,
        `Shared channel ${channelId} is ${state}; MediaLive edits IDLE channels only`,
      );
  } else {
    // One this apply just created is CREATING: retried after 1 s, then less often.
    const refusal = inputNotAttachable(
      inputId,
      await inputState(inputId, signal),
      (message) =>
        new TaskError(TaskErrors.SourceUnavailable, `${message}: source ${sourceId} lost its input`),
    );
    if (refusal) throw refusal;
  }
  const outputs: SharedOutput[] = [];
  for (const d of wanted) {
    const target = activeOutput(d);
    outputs.push({
      destinationId: d.destinationId,
      url: target.url,
      streamKey: await readStreamKey(target.keyParameter, signal),
      preset: d.preset,
    });
  }
  let channelArn = shared.channelArn;
  if (channelId) {
    const res = await medialive().send(
      new UpdateChannelCommand({ ChannelId: channelId, ...sharedChannelSettings(outputs) }),
      { abortSignal: signal },
    );
    channelArn = res.Channel?.Arn ?? channelArn;
    logger.info("Updated the shared channel's outputs", { sourceId, channelId, outputs: outputs.length });
  } else {
    const res = await medialive()
      .send(
        new CreateChannelCommand(
          buildSharedChannel({
            name: `castflow-shared-${sourceId}`,
            inputId,
            roleArn: config().MEDIALIVE_ROLE_ARN,
            requestId: `${executionName}-channel-${iteration}`,
            tags: { ...tags, [Tags.createdBy]: executionName },
            outputs,
          }),
        ),
        { abortSignal: signal },
      )
      .catch((err: unknown) => {
        throw asQuotaError(err, "a channel");
      });
    if (!res.Channel?.Id) throw new Error("CreateChannel returned a channel without an id");
    channelId = res.Channel.Id;
    channelArn = res.Channel.Arn;
    logger.info("Created the shared channel", { sourceId, channelId, outputs: outputs.length });
  }
  const saved = await updateSource(sourceId, {
    set: {
      "shared.channelId": channelId,
      "shared.channelArn": channelArn,
      "shared.outputs": Object.fromEntries(
        wanted.map((d) => [d.destinationId, fingerprints[d.destinationId]]),
      ),
    },
    condition: holdsSharedChannel(executionArn),
  });
  if (!saved) throw notHeld(sourceId);
  return { channelId };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "write-shared-channel",
  entry: import.meta.url,
  input: WriteSharedChannelInput,
  table: "write",
  grants: [
    {
      actions: [
        "medialive:CreateChannel",
        "medialive:UpdateChannel",
        "medialive:DescribeChannel",
        "medialive:DescribeInput",
        "medialive:CreateTags",
      ],
      on: "medialive",
    },
    { actions: ["medialive:ListChannels"], on: "*" },
    { actions: ["ssm:GetParameter"], on: "stream-keys" },
    { actions: ["iam:PassRole"], on: "medialive-role" },
  ],
  run: writeSharedChannel,
});

export const handler = task.handler;
