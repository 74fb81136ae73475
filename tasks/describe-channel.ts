import * as z from "zod";
import { channelState } from "../lib/medialive.ts";
import { type TaskContext, taskHandler } from "../lib/task.ts";

export const DescribeChannelInput = z.object({ channelId: z.string().min(1) });
export type DescribeChannelInput = z.infer<typeof DescribeChannelInput>;
export interface DescribeChannelOutput {
  /** MediaLive channel state; "DELETED" when MediaLive no longer knows the channel. */
  readonly state: string;
}

/** One poll of a channel waiter. Returns only the state: DescribeChannel carries the stream key. */
export async function describeChannel(
  input: DescribeChannelInput,
  { signal }: TaskContext,
): Promise<DescribeChannelOutput> {
  return { state: await channelState(input.channelId, signal) };
}

export const handler = taskHandler("describe-channel", DescribeChannelInput, describeChannel);
