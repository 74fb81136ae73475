import * as z from "zod";
import { getDestination } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask } from "#tasks/define.ts";

export const DestinationResourcesInput = z.object({ destinationId: z.string().min(1) });
export type DestinationResourcesInput = z.infer<typeof DestinationResourcesInput>;
export interface DestinationResourcesOutput {
  readonly channelId: string | null;
  readonly inputId: string | null;
}

/**
 * The MediaLive resources the destination record holds now: what a teardown deletes. Every
 * create records its resource before anything else happens, so a compensation that reads the
 * record finds everything its execution made.
 */
export async function destinationResources(
  input: DestinationResourcesInput,
): Promise<DestinationResourcesOutput> {
  const d = await getDestination(input.destinationId);
  if (!d)
    throw new TaskError(TaskErrors.DestinationNotFound, `Destination ${input.destinationId} does not exist`);
  return { channelId: d.mediaLive.channelId ?? null, inputId: d.mediaLive.inputId ?? null };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "destination-resources",
  entry: import.meta.url,
  input: DestinationResourcesInput,
  table: "read",
  run: destinationResources,
});

export const handler = task.handler;
