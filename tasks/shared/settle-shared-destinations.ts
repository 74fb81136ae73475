import * as z from "zod";
import { deleteStreamKey } from "#lib/aws/stream-keys.ts";
import { closeRun, type DestinationStatus } from "#lib/destinations/model.ts";
import { getHeldSource, holdsSharedChannel } from "#lib/destinations/shared-store.ts";
import { getDestination, updateDestination, updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { SharedApplyTaskInput } from "./claim-shared-channel.ts";

export const SettleItem = z.object({
  destinationId: z.string().min(1),
  to: z.enum(["running", "idle", "deleted"]),
  requestId: z.string().nullable(),
});

export const SettleSharedDestinationsInput = SharedApplyTaskInput.extend({
  settle: z.array(SettleItem),
  /** The shared channel now (null when there is none). */
  channelId: z.string().nullable(),
  /** The pass deleted the channel: the source forgets it. */
  forgetChannel: z.boolean(),
  /** The pass deleted this MEDIACONNECT input: the source forgets it. */
  forgetInputId: z.string().nullable(),
});
export type SettleSharedDestinationsInput = z.infer<typeof SettleSharedDestinationsInput>;
export interface SettleSharedDestinationsOutput {
  readonly settled: number;
}

/** Statuses a pass settles; anything else was settled by someone else meanwhile. */
const PENDING: readonly DestinationStatus[] = [
  "starting",
  "restarting",
  "stopping",
  "updating",
  "deleting",
  "running",
];

/**
 * The end of a pass that worked: the source forgets a channel and input the pass deleted, and every
 * destination the plan settles leaves its transitional status for the one it asked for
 * (`running`, `idle`, or `deleted` after its stream key parameters are deleted), with the
 * running-time metrics kept. Each write is conditioned on the request the plan saw: a destination
 * that asked for something else meanwhile stays pending, and the next pass (the apply plans again
 * because the source's change count moved) settles it.
 */
export async function settleSharedDestinations(
  input: SettleSharedDestinationsInput,
  { signal }: TaskContext,
): Promise<SettleSharedDestinationsOutput> {
  const { sourceId, executionArn } = input;
  const source = await getHeldSource(sourceId, executionArn);
  if (input.forgetChannel || input.forgetInputId) {
    const forgetInput = input.forgetInputId !== null && source.shared.input?.inputId === input.forgetInputId;
    const saved = await updateSource(sourceId, {
      set: input.forgetChannel ? { "shared.outputs": {} } : {},
      remove: [
        ...(input.forgetChannel ? ["shared.channelId", "shared.channelArn"] : []),
        ...(forgetInput ? ["shared.input"] : []),
      ],
      condition: holdsSharedChannel(executionArn),
    });
    if (!saved)
      throw new TaskError(
        TaskErrors.SharedChannelBusy,
        `The shared channel of source ${sourceId} is no longer held by this execution`,
      );
  }
  let settled = 0;
  const now = new Date();
  for (const item of input.settle) {
    const d = await getDestination(item.destinationId);
    if (!d || !PENDING.includes(d.status) || (d.requestId ?? null) !== item.requestId) continue;
    if (item.to === "deleted")
      for (const name of [d.streamKeyParameter, d.backupStreamKeyParameter])
        if (name) await deleteStreamKey(name, signal);
    const set: Record<string, unknown> = { status: item.to };
    const remove = ["error"];
    if (item.to === "running") {
      if (input.channelId) set["mediaLive.channelId"] = input.channelId;
      if (source.shared.channelArn) set["mediaLive.channelArn"] = source.shared.channelArn;
      if (!d.metrics.runningSince) {
        set["metrics.runningSince"] = now.toISOString();
        set["metrics.starts"] = d.metrics.starts + 1;
      }
    } else {
      const closed = closeRun(d, now);
      Object.assign(set, closed.set);
      remove.push(...closed.remove);
    }
    if (item.to === "deleted") {
      set.deletedAt = now.toISOString();
      set.wanted = "deleted";
      remove.push("mediaLive.channelId", "mediaLive.channelArn");
    }
    const saved = await updateDestination(item.destinationId, {
      set,
      remove,
      condition: {
        expression:
          item.requestId === null
            ? "#status = :seen AND attribute_not_exists(#requestId)"
            : "#status = :seen AND #requestId = :request",
        values: { ":seen": d.status, ...(item.requestId === null ? {} : { ":request": item.requestId }) },
      },
    });
    if (saved) settled++;
  }
  logger.info("Settled shared destinations", { sourceId, settled, planned: input.settle.length });
  return { settled };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "settle-shared-destinations",
  entry: import.meta.url,
  input: SettleSharedDestinationsInput,
  table: "write",
  grants: [{ actions: ["ssm:DeleteParameter"], on: "stream-keys" }],
  run: settleSharedDestinations,
});

export const handler = task.handler;
