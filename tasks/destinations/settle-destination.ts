import * as z from "zod";
import { closeRun } from "#lib/destinations/model.ts";
import { getDestination, heldBy, updateDestination } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask } from "#tasks/define.ts";

export const SettleDestinationInput = z.object({
  destinationId: z.string().min(1),
  executionArn: z.string().min(1),
  to: z.enum(["idle", "running", "deleted"]),
});
export type SettleDestinationInput = z.infer<typeof SettleDestinationInput>;
export interface SettleDestinationOutput {
  readonly destinationId: string;
  readonly status: string;
  readonly at: string;
}

/**
 * The last step of every successful destination lifecycle: the status leaves its transitional
 * value for `to`, the operation and any error are cleared, and the running-time metrics are kept
 * (a start counts one start and opens the billed period; a stop or delete closes it). Only the
 * execution that holds the destination writes; a repeat after success changes nothing.
 */
export async function settleDestination(input: SettleDestinationInput): Promise<SettleDestinationOutput> {
  const { destinationId, executionArn, to } = input;
  const d = await getDestination(destinationId);
  const now = new Date();
  const at = now.toISOString();
  if (!d) throw new TaskError(TaskErrors.DestinationNotFound, `Destination ${destinationId} does not exist`);
  if (d.operation?.executionArn !== executionArn) {
    // A re-run after the write landed and its answer was lost: done, whatever holds it now.
    if (d.lastSettled?.executionArn === executionArn)
      return { destinationId, status: d.lastSettled.status, at: d.lastSettled.at };
    throw new TaskError(
      TaskErrors.DestinationBusy,
      `Destination ${destinationId} is no longer held by this execution`,
    );
  }
  const set: Record<string, unknown> = { status: to, lastSettled: { executionArn, status: to, at } };
  const remove = ["operation", "error"];
  if (to === "running" && !d.metrics.runningSince) {
    set["metrics.runningSince"] = at;
    set["metrics.starts"] = d.metrics.starts + 1;
  }
  if (to !== "running") {
    const closed = closeRun(d, now);
    Object.assign(set, closed.set);
    remove.push(...closed.remove);
  }
  if (to === "deleted") {
    set.deletedAt = at;
    remove.push(
      "mediaLive.channelId",
      "mediaLive.channelArn",
      "mediaLive.inputId",
      "mediaLive.inputArn",
      "flowOutputArn",
    );
  }
  const saved = await updateDestination(destinationId, {
    set,
    remove,
    condition: heldBy(executionArn),
  });
  if (!saved)
    throw new TaskError(
      TaskErrors.DestinationBusy,
      `Destination ${destinationId} is no longer held by this execution`,
    );
  return { destinationId, status: to, at };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "settle-destination",
  entry: import.meta.url,
  input: SettleDestinationInput,
  table: "write",
  run: settleDestination,
});

export const handler = task.handler;
