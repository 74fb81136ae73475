import * as z from "zod";
import { getSource, updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask } from "#tasks/define.ts";

export const FlowUserInput = z.object({ sourceId: z.string().min(1), destinationId: z.string().min(1) });
export type FlowUserInput = z.infer<typeof FlowUserInput>;
export interface AcquireFlowOutput {
  readonly flowArn: string;
}

/**
 * Adds the destination to the users of its source's flow (one conditional write; adding twice is
 * harmless). From then on no other destination's stop stops the flow: the last user to leave
 * stops it (release-flow).
 */
export async function acquireFlow(input: FlowUserInput): Promise<AcquireFlowOutput> {
  const source = await getSource(input.sourceId);
  const flowArn = source?.flow?.flowArn;
  if (source?.status !== "ready" || !flowArn)
    throw new TaskError(TaskErrors.SourceUnavailable, `Source ${input.sourceId} has no usable flow`);
  const saved = await updateSource(input.sourceId, {
    set: { [`flowUsers.${input.destinationId}`]: new Date().toISOString() },
    condition: { expression: "#status = :ready", values: { ":ready": "ready" } },
  });
  if (!saved) throw new TaskError(TaskErrors.SourceUnavailable, `Source ${input.sourceId} is being deleted`);
  return { flowArn };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "acquire-flow",
  entry: import.meta.url,
  input: FlowUserInput,
  table: "write",
  run: acquireFlow,
});

export const handler = task.handler;
