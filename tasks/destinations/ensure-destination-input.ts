import { CreateInputCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { describeFlow } from "#lib/aws/mediaconnect.ts";
import { asQuotaError, findInputsByTags, liveInput } from "#lib/aws/medialive.ts";
import { config } from "#lib/config.ts";
import { DestinationTags } from "#lib/destinations/model.ts";
import { getHeldDestination, getSource, updateHeldDestination } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags, Tags } from "#lib/sessions/model.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const EnsureDestinationInputInput = z.object({
  destinationId: z.string().min(1),
  executionArn: z.string().min(1),
  executionName: z.string().min(1),
});
export type EnsureDestinationInputInput = z.infer<typeof EnsureDestinationInputInput>;
export interface EnsureDestinationInputOutput {
  readonly inputId: string;
}

/**
 * The destination's MediaLive input, of type MEDIACONNECT on its source's flow: MediaLive makes
 * and owns the flow output that feeds it (docs/destinations.md explains the choice). Created
 * with a request id derived from the execution, so a retried call returns the same input; the
 * input and the flow output MediaLive made for it are recorded at once, so the compensation and
 * delete find them.
 */
export async function ensureDestinationInput(
  input: EnsureDestinationInputInput,
  { signal }: TaskContext,
): Promise<EnsureDestinationInputOutput> {
  const { destinationId, executionArn, executionName } = input;
  const d = await getHeldDestination(destinationId, executionArn, ["creating"]);
  if (d.mediaLive.inputId && (await liveInput(d.mediaLive.inputId, signal)))
    return { inputId: d.mediaLive.inputId };
  const source = await getSource(d.sourceId);
  // An input an earlier execution created for this destination (its record write was lost, or
  // the execution was aborted and this one took over): found by its tag, never created twice.
  const [made] = await findInputsByTags({ [DestinationTags.destinationId]: destinationId }, signal);
  const flowArn = source?.flow?.flowArn;
  if (source?.status !== "ready" || !flowArn)
    throw new TaskError(TaskErrors.SourceUnavailable, `Source ${d.sourceId} has no usable flow`);
  const res = made
    ? { Input: made }
    : await medialive()
        .send(
          new CreateInputCommand({
            Name: `castflow-dest-${destinationId}`,
            Type: "MEDIACONNECT",
            MediaConnectFlows: [{ FlowArn: flowArn }],
            RoleArn: config().MEDIALIVE_ROLE_ARN,
            RequestId: `${executionName}-input`,
            Tags: {
              ...managedTags(),
              [DestinationTags.destinationId]: destinationId,
              [DestinationTags.sourceId]: d.sourceId,
              [Tags.createdBy]: executionName,
            },
          }),
          { abortSignal: signal },
        )
        .catch((err: unknown) => {
          throw asQuotaError(err, "an input");
        });
  const created = res.Input;
  if (!created?.Id || !created.Arn) throw new Error("CreateInput returned an input without an id");
  // The flow output MediaLive made for this input (absent from the flow only if MediaLive is slow to add it).
  const flow = await describeFlow(flowArn, signal);
  const output = flow?.Outputs?.find((o) => o.MediaLiveInputArn === created.Arn);
  await updateHeldDestination(destinationId, executionArn, "creating", {
    set: {
      "mediaLive.inputId": created.Id,
      "mediaLive.inputArn": created.Arn,
      flowOutputArn: output?.OutputArn,
    },
  });
  logger.info("Created MediaLive input", { destinationId, inputId: created.Id });
  return { inputId: created.Id };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "ensure-destination-input",
  entry: import.meta.url,
  input: EnsureDestinationInputInput,
  table: "write",
  grants: [
    {
      actions: ["medialive:CreateInput", "medialive:DescribeInput", "medialive:CreateTags"],
      on: "medialive",
    },
    // Finding an input an earlier attempt created (ListInputs is not resource-scoped).
    { actions: ["medialive:ListInputs"], on: "*" },
    { actions: ["mediaconnect:DescribeFlow"], on: "mediaconnect" },
    { actions: ["iam:PassRole"], on: "medialive-role" },
  ],
  run: ensureDestinationInput,
});

export const handler = task.handler;
