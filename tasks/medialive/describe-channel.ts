import * as z from "zod";
import { channelState } from "#lib/aws/medialive.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

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

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "describe-channel",
  entry: import.meta.url,
  input: DescribeChannelInput,
  grants: [{ actions: ["medialive:DescribeChannel"], on: "medialive" }],
  run: describeChannel,
});

export const handler = task.handler;
