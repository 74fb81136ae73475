import * as z from "zod";
import { channelState, liveInput } from "#lib/aws/medialive.ts";
import { closeRun, DestinationLifecycleName } from "#lib/destinations/model.ts";
import { getDestination, heldBy, updateDestination } from "#lib/destinations/store.ts";
import { errorName, publicErrorMessage } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

const CaughtError = z.object({ Error: z.string(), Cause: z.string().optional() });

export const RecordDestinationFailureInput = z.object({
  destinationId: z.string().min(1),
  executionArn: z.string().min(1),
  lifecycle: DestinationLifecycleName,
  error: CaughtError,
  cleanupError: CaughtError.optional(),
});
export type RecordDestinationFailureInput = z.infer<typeof RecordDestinationFailureInput>;
export interface RecordDestinationFailureOutput {
  readonly recorded: boolean;
}

/**
 * Last step of every failure path: the destination leaves its transitional status for `error`
 * with the reason (castflow's own errors keep their message, AWS errors only their name), so no
 * destination stays `starting` or `creating`. Ids of resources the compensation deleted are
 * dropped from the record; the running period closes unless the channel still runs.
 */
export async function recordDestinationFailure(
  input: RecordDestinationFailureInput,
  { signal }: TaskContext,
): Promise<RecordDestinationFailureOutput> {
  const { destinationId, executionArn } = input;
  const d = await getDestination(destinationId);
  if (!d || d.operation?.executionArn !== executionArn) return { recorded: false };
  const remove = ["operation"];
  const set: Record<string, unknown> = {};
  let channelRuns = false;
  // Tidying the record is best effort: this step must land even when MediaLive is what failed.
  try {
    const { channelId, inputId } = d.mediaLive;
    const state = channelId ? await channelState(channelId, signal) : "DELETED";
    channelRuns = ["RUNNING", "STARTING", "RECOVERING", "STOPPING"].includes(state);
    if (channelId && state === "DELETED") remove.push("mediaLive.channelId", "mediaLive.channelArn");
    if (inputId && !(await liveInput(inputId, signal)))
      remove.push("mediaLive.inputId", "mediaLive.inputArn", "flowOutputArn");
  } catch (err) {
    logger.warn("Could not check which MediaLive resources remain; keeping their ids", {
      error: errorName(err),
    });
    channelRuns = d.metrics.runningSince !== undefined;
  }
  if (!channelRuns) {
    const closed = closeRun(d, new Date());
    Object.assign(set, closed.set);
    remove.push(...closed.remove);
  }
  let message = publicErrorMessage(input.error.Error, input.error.Cause);
  if (input.cleanupError) {
    const cleanup = publicErrorMessage(input.cleanupError.Error, input.cleanupError.Cause);
    message += ` (clean-up also failed: ${input.cleanupError.Error}: ${cleanup})`.slice(0, 600);
  }
  const error = { code: input.error.Error, message };
  const saved = await updateDestination(destinationId, {
    set: { ...set, status: "error", error, "metrics.lastError": error },
    remove,
    condition: heldBy(executionArn),
  });
  return { recorded: saved !== undefined };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "record-destination-failure",
  entry: import.meta.url,
  input: RecordDestinationFailureInput,
  table: "write",
  grants: [{ actions: ["medialive:DescribeChannel", "medialive:DescribeInput"], on: "medialive" }],
  run: recordDestinationFailure,
});

export const handler = task.handler;
