import * as z from "zod";
import { getIvsChannel } from "../lib/ivs.ts";
import { type TaskContext, taskHandler } from "../lib/task.ts";

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

export const handler = taskHandler(
  "confirm-program-channel",
  ConfirmProgramChannelInput,
  confirmProgramChannel,
);
