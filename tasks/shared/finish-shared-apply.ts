import * as z from "zod";
import { allOf } from "#lib/conditional-update.ts";
import { SHARED_APPLY_MAX_PASSES } from "#lib/destinations/shared-plan.ts";
import { getHeldSource, holdsSharedChannel } from "#lib/destinations/shared-store.ts";
import { getSource, updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { defineTask } from "#tasks/define.ts";
import { SharedApplyTaskInput } from "./claim-shared-channel.ts";

export const FinishSharedApplyInput = SharedApplyTaskInput.extend({
  /** The change count the pass planned with. */
  requested: z.number().int().nonnegative(),
  iteration: z.number().int().nonnegative(),
});
export type FinishSharedApplyInput = z.infer<typeof FinishSharedApplyInput>;
export interface FinishSharedApplyOutput {
  /** True when changes arrived during the pass: plan and apply again. */
  readonly again: boolean;
  readonly iteration: number;
}

/**
 * The last step of a pass: lets go of the shared channel only if no change was counted since the
 * pass planned (one conditional write on the source's change count). A change counted before this
 * write makes it fail and the apply plans again; one counted after it finds no apply holding the
 * channel, so the API starts one. So a request that arrives while an apply runs is never lost.
 * Passes are bounded (`SHARED_APPLY_MAX_PASSES`): past them `SharedChannelChurn` records the pending
 * destinations as failed instead of looping for ever.
 */
export async function finishSharedApply(input: FinishSharedApplyInput): Promise<FinishSharedApplyOutput> {
  const { sourceId, executionArn, requested, iteration } = input;
  const released = await updateSource(sourceId, {
    set: { "shared.lastApply": { executionArn, finishedAt: new Date().toISOString() } },
    remove: ["shared.apply"],
    condition: allOf(holdsSharedChannel(executionArn), {
      expression: "#shared.#requested = :planned",
      values: { ":planned": requested },
    }),
  });
  if (released) return { again: false, iteration };
  // A re-run after the release whose answer was lost (the Lambda died): already done.
  const now = await getSource(sourceId);
  if (
    now?.shared?.lastApply?.executionArn === executionArn &&
    now.shared.apply?.executionArn !== executionArn
  )
    return { again: false, iteration };
  const source = await getHeldSource(sourceId, executionArn);
  const next = iteration + 1;
  if (next >= SHARED_APPLY_MAX_PASSES)
    throw new TaskError(
      TaskErrors.SharedChannelChurn,
      `The shared channel of source ${sourceId} was changed ${source.shared.requested - requested} more time(s) during its ${next}th pass; ask again once it settles`,
    );
  logger.info("Changes arrived during the pass; planning again", { sourceId, iteration: next });
  return { again: true, iteration: next };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "finish-shared-apply",
  entry: import.meta.url,
  input: FinishSharedApplyInput,
  table: "write",
  run: finishSharedApply,
});

export const handler = task.handler;
