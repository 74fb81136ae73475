import * as z from "zod";
import { channelState } from "#lib/aws/medialive.ts";
import { allOf, atVersion } from "#lib/conditional-update.ts";
import { closeRun } from "#lib/destinations/model.ts";
import { failedDestinations } from "#lib/destinations/shared-plan.ts";
import { holdsSharedChannel } from "#lib/destinations/shared-store.ts";
import { getSource, listDestinations, updateDestination, updateSource } from "#lib/destinations/store.ts";
import { errorName, publicErrorMessage } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { SharedApplyTaskInput } from "./claim-shared-channel.ts";

const CaughtError = z.object({ Error: z.string(), Cause: z.string().optional() });

export const RecordSharedFailureInput = SharedApplyTaskInput.extend({
  error: CaughtError,
  cleanupError: CaughtError.optional(),
});
export type RecordSharedFailureInput = z.infer<typeof RecordSharedFailureInput>;
export interface RecordSharedFailureOutput {
  readonly recorded: number;
}

/** Rounds of "mark, then let go if nothing was asked meanwhile" before letting go regardless. */
const MAX_ROUNDS = 20;

/**
 * The last step of a failed apply: every destination the apply was working for (any transitional
 * status) and every `running` one whose channel no longer runs goes to `error` with the reason
 * (castflow's own errors keep their message, AWS errors only their name) and wants `idle`, so
 * nothing stays transitional and nothing is restarted behind its owner's back. Then the channel is
 * let go, on the condition that no change was counted since the marking; a change that was
 * counted is marked too, in the next round, so no request is left pending.
 */
export async function recordSharedFailure(
  input: RecordSharedFailureInput,
  { signal }: TaskContext,
): Promise<RecordSharedFailureOutput> {
  const { sourceId, executionArn } = input;
  let message = publicErrorMessage(input.error.Error, input.error.Cause);
  if (input.cleanupError) {
    const cleanup = publicErrorMessage(input.cleanupError.Error, input.cleanupError.Cause);
    message += ` (clean-up also failed: ${input.cleanupError.Error}: ${cleanup})`.slice(0, 600);
  }
  let recorded = 0;
  for (let round = 1; ; round++) {
    const source = await getSource(sourceId);
    if (!source?.shared || source.shared.apply?.executionArn !== executionArn) return { recorded };
    const seen = source.shared.requested;
    let channelRuns = false;
    try {
      const channelId = source.shared.channelId;
      channelRuns = channelId !== undefined && (await channelState(channelId, signal)) === "RUNNING";
    } catch (err) {
      // Marking must land even when MediaLive is what failed: assume the channel does not run.
      logger.warn("Could not read the shared channel's state", { sourceId, error: errorName(err) });
    }
    const destinations = (await listDestinations({ sourceId })).filter((d) => d.status !== "deleted");
    const now = new Date();
    for (const { destinationId, interrupted } of failedDestinations(destinations, channelRuns)) {
      const d = destinations.find((x) => x.destinationId === destinationId);
      if (!d) continue;
      const error = {
        code: input.error.Error,
        message: interrupted ? `The shared channel stopped after a failed change: ${message}` : message,
      };
      const set: Record<string, unknown> = {
        status: "error",
        wanted: "idle",
        error,
        "metrics.lastError": error,
      };
      const closed = closeRun(d, now);
      Object.assign(set, closed.set);
      const remove = closed.remove;
      if (await updateDestination(destinationId, { set, remove, condition: atVersion(d.version) }))
        recorded++;
    }
    const released = await updateSource(sourceId, {
      set: { "shared.lastApply": { executionArn, finishedAt: new Date().toISOString() } },
      remove: ["shared.apply"],
      condition:
        round >= MAX_ROUNDS
          ? holdsSharedChannel(executionArn)
          : allOf(holdsSharedChannel(executionArn), {
              expression: "#shared.#requested = :seen",
              values: { ":seen": seen },
            }),
    });
    if (released) {
      logger.warn("Recorded a failed shared channel apply", { sourceId, recorded, error: input.error.Error });
      return { recorded };
    }
  }
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "record-shared-failure",
  entry: import.meta.url,
  input: RecordSharedFailureInput,
  table: "write",
  grants: [{ actions: ["medialive:DescribeChannel"], on: "medialive" }],
  run: recordSharedFailure,
});

export const handler = task.handler;
