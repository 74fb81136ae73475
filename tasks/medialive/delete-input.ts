import { DeleteInputCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { isStateRefusal, liveInput } from "#lib/aws/medialive.ts";
import { errorName, isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const DeleteInputInput = z.object({ inputId: z.string().min(1) });
export type DeleteInputInput = z.infer<typeof DeleteInputInput>;
export interface DeleteInputOutput {
  readonly deleted: boolean;
}

/** Deletes a detached input; idempotent (gone or deleting counts as done). Still attached: `ChannelNotReady`, retried. */
export async function deleteInput(
  input: DeleteInputInput,
  { signal }: TaskContext,
): Promise<DeleteInputOutput> {
  try {
    await medialive().send(new DeleteInputCommand({ InputId: input.inputId }), { abortSignal: signal });
    return { deleted: true };
  } catch (err) {
    if (isNotFound(err)) return { deleted: false };
    if (isStateRefusal(err)) {
      // Already on its way out (a retried delete whose first answer was lost): done.
      if (!(await liveInput(input.inputId, signal))) return { deleted: false };
      throw new TaskError(
        TaskErrors.ChannelNotReady,
        `Input ${input.inputId} cannot be deleted yet (${errorName(err)})`,
      );
    }
    throw err;
  }
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "delete-input",
  entry: import.meta.url,
  input: DeleteInputInput,
  grants: [{ actions: ["medialive:DeleteInput", "medialive:DescribeInput"], on: "medialive" }],
  run: deleteInput,
});

export const handler = task.handler;
