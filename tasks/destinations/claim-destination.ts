import * as z from "zod";
import { mayTakeOver } from "#lib/aws/executions.ts";
import { atVersion } from "#lib/conditional-update.ts";
import {
  type Destination,
  DestinationLifecycleName,
  type DestinationStatus,
  TRANSITIONAL,
} from "#lib/destinations/model.ts";
import { getDestination, updateDestination } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask } from "#tasks/define.ts";

export const ClaimDestinationInput = z.object({
  destinationId: z.string().min(1),
  executionArn: z.string().min(1),
  lifecycle: DestinationLifecycleName,
});
export type ClaimDestinationInput = z.infer<typeof ClaimDestinationInput>;

export interface ClaimDestinationOutput {
  /** True when the destination already is where this lifecycle would take it: nothing to do. */
  readonly alreadyDone: boolean;
  /** The status before the claim. */
  readonly previous: DestinationStatus;
  /** True when its channel ran (or may run) before the claim: an update restarts it afterwards. */
  readonly wasRunning: boolean;
  readonly sourceId: string;
  readonly channelId: string | null;
  readonly inputId: string | null;
}

/** Per lifecycle: the status it holds the destination in, where it may start from, and where it is already done. */
const RULES: Record<
  DestinationLifecycleName,
  { holds: DestinationStatus; from: readonly DestinationStatus[]; done: readonly DestinationStatus[] }
> = {
  "destination-add": { holds: "creating", from: [], done: ["idle", "running"] },
  "destination-start": { holds: "starting", from: ["idle", "error"], done: ["running"] },
  "destination-stop": { holds: "stopping", from: ["running", "error"], done: ["idle"] },
  "destination-update": { holds: "updating", from: ["idle", "running", "error"], done: [] },
  "destination-delete": { holds: "deleting", from: ["idle", "running", "error"], done: ["deleted"] },
};

const output = (
  d: Destination,
  previous: DestinationStatus,
  alreadyDone = false,
): ClaimDestinationOutput => ({
  alreadyDone,
  previous,
  wasRunning: previous === "running" || previous === "restarting" || d.metrics.runningSince !== undefined,
  sourceId: d.sourceId,
  channelId: d.mediaLive.channelId ?? null,
  inputId: d.mediaLive.inputId ?? null,
});

/**
 * Claims the destination for this execution: its status becomes the lifecycle's transitional
 * status (`starting`, `stopping`, ...) with `operation` naming this execution, in one conditional
 * write, so two lifecycles never work on one destination at once. A destination held by an
 * execution that has closed (aborted, timed out) is taken over; one held by a running execution
 * is `DestinationBusy` (the API answers 409 before it gets here). `destination-add` claims only
 * the `creating` record the API wrote for it.
 */
export async function claimDestination(input: ClaimDestinationInput): Promise<ClaimDestinationOutput> {
  // The API writes other fields (its execution counter) around the start: a version race on
  // those is read again, not a refusal.
  for (let attempt = 1; ; attempt++) {
    const claimed = await tryClaim(input);
    if (claimed !== "changed") return claimed;
    if (attempt >= MAX_CLAIM_ATTEMPTS)
      throw new TaskError(
        TaskErrors.DestinationBusy,
        `Destination ${input.destinationId} kept changing while claiming it`,
      );
  }
}

const MAX_CLAIM_ATTEMPTS = 5;

async function tryClaim(input: ClaimDestinationInput): Promise<ClaimDestinationOutput | "changed"> {
  const { destinationId, executionArn, lifecycle } = input;
  const d = await getDestination(destinationId);
  if (!d) throw new TaskError(TaskErrors.DestinationNotFound, `Destination ${destinationId} does not exist`);
  const rule = RULES[lifecycle];
  const owner = d.operation?.executionArn;
  if (d.status === rule.holds && owner === executionArn) return output(d, d.status);
  if (rule.done.includes(d.status)) return output(d, d.status, true);
  if (d.status === "deleted" || (d.status === "deleting" && lifecycle !== "destination-delete"))
    throw new TaskError(TaskErrors.DestinationBusy, `Destination ${destinationId} is ${d.status}`);
  const transitional = TRANSITIONAL.includes(d.status);
  // The API names the execution it is about to start as owner before starting it, so a
  // transitional status always has one. An owner that closed (or never started, once its start
  // had ample time) is taken over; a missing owner counts as closed.
  const takeover =
    transitional && (owner === undefined || (await mayTakeOver(owner, d.operation?.startedAt)));
  const allowed =
    (takeover && (lifecycle !== "destination-add" || d.status === "creating")) ||
    (!transitional && rule.from.includes(d.status));
  if (!allowed)
    throw new TaskError(
      TaskErrors.DestinationBusy,
      `Destination ${destinationId} is ${d.status}; ${lifecycle} cannot start from there`,
    );
  const claimed = await updateDestination(destinationId, {
    set: {
      status: rule.holds,
      operation: { lifecycle, executionArn, startedAt: new Date().toISOString() },
    },
    condition: atVersion(d.version),
  });
  if (!claimed) return "changed";
  return output(claimed, d.status);
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "claim-destination",
  entry: import.meta.url,
  input: ClaimDestinationInput,
  table: "write",
  grants: [{ actions: ["states:DescribeExecution"], on: "states" }],
  run: claimDestination,
});

export const handler = task.handler;
