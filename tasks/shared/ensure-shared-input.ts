import { CreateInputCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { asQuotaError, findInputsByTags, liveInput } from "#lib/aws/medialive.ts";
import { config } from "#lib/config.ts";
import { DestinationTags } from "#lib/destinations/model.ts";
import { SHARED_ROLE } from "#lib/destinations/shared-plan.ts";
import { getHeldSource, holdsSharedChannel } from "#lib/destinations/shared-store.ts";
import { updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags, Tags } from "#lib/sessions/model.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { SharedApplyTaskInput } from "./claim-shared-channel.ts";

export const EnsureSharedInputInput = SharedApplyTaskInput.extend({
  executionName: z.string().min(1),
  iteration: z.number().int().nonnegative(),
});
export type EnsureSharedInputInput = z.infer<typeof EnsureSharedInputInput>;
export interface EnsureSharedInputOutput {
  readonly inputId: string;
}

/**
 * A shared MediaConnect source's channel input: one MEDIACONNECT input on the source's flow
 * (MediaLive adds and owns its flow output), made when the channel is first needed and deleted
 * with the channel. Found again by the id on the source, then by tag, before it is created with a
 * RequestId from the execution and pass (a retried create returns the same input); recorded on
 * the source at once.
 */
export async function ensureSharedInput(
  input: EnsureSharedInputInput,
  { signal }: TaskContext,
): Promise<EnsureSharedInputOutput> {
  const { sourceId, executionArn, executionName, iteration } = input;
  const source = await getHeldSource(sourceId, executionArn);
  const known = source.shared.input?.inputId;
  if (known && (await liveInput(known, signal))) return { inputId: known };
  const flowArn = source.flow?.flowArn;
  if (source.status !== "ready" || !flowArn)
    throw new TaskError(TaskErrors.SourceUnavailable, `Source ${sourceId} has no usable flow`);
  const tags = {
    ...managedTags(),
    [DestinationTags.sourceId]: sourceId,
    [Tags.role]: SHARED_ROLE.input,
  };
  let [found] = await findInputsByTags(tags, signal);
  if (!found) {
    const res = await medialive()
      .send(
        new CreateInputCommand({
          Name: `castflow-shared-${sourceId}`,
          Type: "MEDIACONNECT",
          MediaConnectFlows: [{ FlowArn: flowArn }],
          RoleArn: config().MEDIALIVE_ROLE_ARN,
          RequestId: `${executionName}-input-${iteration}`,
          Tags: { ...tags, [Tags.createdBy]: executionName },
        }),
        { abortSignal: signal },
      )
      .catch((err: unknown) => {
        throw asQuotaError(err, "an input");
      });
    found = res.Input;
    logger.info("Created the shared channel's MEDIACONNECT input", { sourceId, inputId: found?.Id });
  }
  if (!found?.Id) throw new Error("CreateInput returned an input without an id");
  const saved = await updateSource(sourceId, {
    set: {
      "shared.input": { inputId: found.Id, inputArn: found.Arn, type: "MEDIACONNECT", endpoints: [] },
    },
    condition: holdsSharedChannel(executionArn),
  });
  if (!saved)
    throw new TaskError(
      TaskErrors.SharedChannelBusy,
      `The shared channel of source ${sourceId} is no longer held by this execution`,
    );
  return { inputId: found.Id };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "ensure-shared-input",
  entry: import.meta.url,
  input: EnsureSharedInputInput,
  table: "write",
  grants: [
    {
      actions: ["medialive:CreateInput", "medialive:DescribeInput", "medialive:CreateTags"],
      on: "medialive",
    },
    { actions: ["medialive:ListInputs"], on: "*" },
    { actions: ["iam:PassRole"], on: "medialive-role" },
  ],
  run: ensureSharedInput,
});

export const handler = task.handler;
