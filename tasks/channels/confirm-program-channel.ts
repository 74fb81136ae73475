import * as z from "zod";
import { getIvsChannel } from "#lib/aws/ivs.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const ConfirmProgramChannelInput = z.object({ programChannelArn: z.string().min(1) });
export type ConfirmProgramChannelInput = z.infer<typeof ConfirmProgramChannelInput>;
export interface ConfirmProgramChannelOutput {
  readonly playbackUrl: string;
}

/** IVS channels have no "start": confirming the channel still exists is all go-live needs. */
export async function confirmProgramChannel(
  input: ConfirmProgramChannelInput,
  { signal }: TaskContext,
): Promise<ConfirmProgramChannelOutput> {
  const { playbackUrl } = await getIvsChannel(input.programChannelArn, signal);
  return { playbackUrl };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "confirm-program-channel",
  entry: import.meta.url,
  input: ConfirmProgramChannelInput,
  grants: [{ actions: ["ivs:GetChannel"], on: "ivs" }],
  run: confirmProgramChannel,
});

export const handler = task.handler;
