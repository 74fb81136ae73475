import * as z from "zod";
import { defineLifecycle } from "#state-machines/workflow/lifecycle.ts";
import { SHARED_APPLY_TIMEOUT_MINUTES } from "#state-machines/workflow/waits.ts";

/** `{sourceId, attempt}`: executions are `shared-channel-apply-<sourceId>-<n>`. */
export const SharedChannelApplyInput = z.object({
  sourceId: z.string().min(1),
  attempt: z.number().int().positive(),
});
export type SharedChannelApplyInput = z.infer<typeof SharedChannelApplyInput>;

/**
 * shared-channel-apply: the one lifecycle that changes a shared source's MediaLive channel. It
 * reconciles the channel with what the source's destinations want (their `wanted` field, set by
 * the API), pass after pass until no change arrived during the last one. Aborted, it is run again
 * (`itself`): the claim takes the channel over and the next pass plans from the records.
 */
export const sharedChannelApply = defineLifecycle({
  name: "shared-channel-apply",
  input: SharedChannelApplyInput,
  key: (i) => i.sourceId,
  timeoutMinutes: SHARED_APPLY_TIMEOUT_MINUTES,
  settledBy: "itself",
});
