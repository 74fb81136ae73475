import * as z from "zod";
import { inputState } from "#lib/aws/medialive.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const DescribeInputInput = z.object({ inputId: z.string().min(1) });
export type DescribeInputInput = z.infer<typeof DescribeInputInput>;
export interface DescribeInputOutput {
  /** MediaLive input state; "DELETED" when MediaLive no longer knows the input. */
  readonly state: string;
}

/** One poll of the input-detached waiter. */
export async function describeInput(
  input: DescribeInputInput,
  { signal }: TaskContext,
): Promise<DescribeInputOutput> {
  return { state: await inputState(input.inputId, signal) };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "describe-input",
  entry: import.meta.url,
  input: DescribeInputInput,
  grants: [{ actions: ["medialive:DescribeInput"], on: "medialive" }],
  run: describeInput,
});

export const handler = task.handler;
