import * as z from "zod";
import type { DestinationLifecycleName } from "#lib/destinations/model.ts";
import { defineLifecycle, type Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import { DESTINATION_TIMEOUT_MINUTES } from "#state-machines/workflow/waits.ts";

/** Every destination lifecycle takes `{destinationId, attempt}`; executions are `<name>-<destinationId>-<n>`. */
export const DestinationExecutionInput = z.object({
  destinationId: z.string().min(1),
  attempt: z.number().int().positive(),
});
export type DestinationExecutionInput = z.infer<typeof DestinationExecutionInput>;

/**
 * A destination lifecycle. Each claims the destination first, so an aborted execution leaves it
 * in a transitional status that the same lifecycle, run again, takes over and finishes.
 */
export function destinationLifecycle(
  name: DestinationLifecycleName,
): Lifecycle<typeof DestinationExecutionInput> {
  return defineLifecycle({
    name,
    input: DestinationExecutionInput,
    key: (i) => i.destinationId,
    timeoutMinutes: DESTINATION_TIMEOUT_MINUTES,
    settledBy: "itself",
  });
}
