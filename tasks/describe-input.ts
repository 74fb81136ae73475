import * as z from "zod";
import { inputState } from "../lib/medialive.ts";
import { type TaskContext, taskHandler } from "../lib/task.ts";

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

export const handler = taskHandler("describe-input", DescribeInputInput, describeInput);
