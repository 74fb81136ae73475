import * as z from "zod";
import { channelState } from "#lib/aws/medialive.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { releaseFlow } from "./release-flow.ts";

export const ReleaseFlowIfStoppedInput = z.object({
  sourceId: z.string().min(1),
  destinationId: z.string().min(1),
  channelId: z.string().nullable(),
});
export type ReleaseFlowIfStoppedInput = z.infer<typeof ReleaseFlowIfStoppedInput>;
export interface ReleaseFlowIfStoppedOutput {
  readonly released: boolean;
  readonly stopped: boolean;
}

/** States in which the channel may still take the flow's content. */
const MAY_RUN = new Set(["STARTING", "RUNNING", "RECOVERING", "STOPPING"]);

/**
 * On a failure path (a stop or an update that failed): leaves the flow only if the destination's
 * channel is not running, so a flow no destination uses is not kept ACTIVE (and billed) until
 * the host acts, while a channel that still runs keeps its source.
 */
export async function releaseFlowIfStopped(
  input: ReleaseFlowIfStoppedInput,
  ctx: TaskContext,
): Promise<ReleaseFlowIfStoppedOutput> {
  const state = input.channelId ? await channelState(input.channelId, ctx.signal) : "DELETED";
  if (MAY_RUN.has(state)) return { released: false, stopped: false };
  const { stopped } = await releaseFlow(
    { sourceId: input.sourceId, destinationId: input.destinationId },
    ctx,
  );
  return { released: true, stopped };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "release-flow-if-stopped",
  entry: import.meta.url,
  input: ReleaseFlowIfStoppedInput,
  table: "write",
  grants: [
    { actions: ["medialive:DescribeChannel"], on: "medialive" },
    { actions: ["mediaconnect:DescribeFlow", "mediaconnect:StopFlow"], on: "mediaconnect" },
  ],
  run: releaseFlowIfStopped,
});

export const handler = task.handler;
