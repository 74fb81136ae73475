import { DescribeInputCommand } from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "../lib/clients.ts";
import { isNotFound } from "../lib/errors.ts";
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
  try {
    const res = await medialive().send(new DescribeInputCommand({ InputId: input.inputId }), {
      abortSignal: signal,
    });
    return { state: res.State ?? "UNKNOWN" };
  } catch (err) {
    if (isNotFound(err)) return { state: "DELETED" };
    throw err;
  }
}

export const handler = taskHandler("describe-input", DescribeInputInput, describeInput);
