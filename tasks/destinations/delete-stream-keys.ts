import * as z from "zod";
import { deleteStreamKey } from "#lib/aws/stream-keys.ts";
import { getDestination } from "#lib/destinations/store.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const DeleteStreamKeysInput = z.object({ destinationId: z.string().min(1) });
export type DeleteStreamKeysInput = z.infer<typeof DeleteStreamKeysInput>;
export interface DeleteStreamKeysOutput {
  readonly deleted: number;
}

/** Deletes the destination's stream key parameters (primary and backup); ones already gone are fine. */
export async function deleteStreamKeys(
  input: DeleteStreamKeysInput,
  { signal }: TaskContext,
): Promise<DeleteStreamKeysOutput> {
  const d = await getDestination(input.destinationId);
  if (!d) return { deleted: 0 };
  const names = [d.streamKeyParameter, d.backupStreamKeyParameter].filter((n): n is string => !!n);
  for (const name of names) await deleteStreamKey(name, signal);
  return { deleted: names.length };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "delete-stream-keys",
  entry: import.meta.url,
  input: DeleteStreamKeysInput,
  table: "read",
  grants: [{ actions: ["ssm:DeleteParameter"], on: "stream-keys" }],
  run: deleteStreamKeys,
});

export const handler = task.handler;
