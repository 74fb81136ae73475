import * as z from "zod";
import { channelState } from "#lib/aws/medialive.ts";
import {
  planSharedChannel,
  SHARED_FLOW_USER,
  type SharedPlan,
  toPlanDestination,
} from "#lib/destinations/shared-plan.ts";
import { getHeldSource } from "#lib/destinations/shared-store.ts";
import { listDestinations, updateDestination } from "#lib/destinations/store.ts";
import { logger } from "#lib/logger.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { SharedApplyTaskInput } from "./claim-shared-channel.ts";

export const PlanSharedChannelInput = SharedApplyTaskInput.extend({
  iteration: z.number().int().nonnegative(),
});
export type PlanSharedChannelInput = z.infer<typeof PlanSharedChannelInput>;

export type PlanSharedChannelOutput = SharedPlan & {
  /** The source's change count this plan saw: the apply finishes only if it is still the same. */
  readonly requested: number;
};

/**
 * One pass of shared-channel-apply starts here: reads what the source's destinations want and
 * what the channel is (its configured outputs from the source record, its state from MediaLive)
 * and plans the pass (lib/destinations/shared-plan.ts). The destinations the plan interrupts are
 * marked `restarting` at once, so their status says so while the restart happens.
 */
export async function planSharedChannelPass(
  input: PlanSharedChannelInput,
  { signal }: TaskContext,
): Promise<PlanSharedChannelOutput> {
  const source = await getHeldSource(input.sourceId, input.executionArn);
  const { shared } = source;
  const destinations = (await listDestinations({ sourceId: source.sourceId })).filter(
    (d) => d.status !== "deleted",
  );
  const channelId = shared.channelId ?? null;
  const state = channelId ? await channelState(channelId, signal) : "DELETED";
  const plan = planSharedChannel({
    destinations: destinations.map(toPlanDestination),
    channel: { channelId, state, configured: shared.outputs },
    input: {
      type: source.protocol === "rtmp-push" ? "RTMP_PUSH" : "MEDIACONNECT",
      inputId: shared.input?.inputId ?? null,
    },
    hasFlow: source.flow !== undefined,
    flowHeld: source.flowUsers[SHARED_FLOW_USER] !== undefined,
  });
  for (const destinationId of plan.interrupts)
    await updateDestination(destinationId, {
      set: { status: "restarting" },
      condition: {
        expression: "#status = :running AND #wanted = :running",
        values: { ":running": "running" },
      },
    });
  logger.info("Planned a shared channel pass", {
    sourceId: source.sourceId,
    iteration: input.iteration,
    outputs: Object.keys(plan.outputs).length,
    channelState: state,
    stop: plan.stopChannel,
    write: plan.writeChannel,
    start: plan.startChannel,
    delete: plan.deleteChannel,
    interrupts: plan.interrupts.length,
    settles: plan.settle.length,
  });
  return { ...plan, requested: shared.requested };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "plan-shared-channel",
  entry: import.meta.url,
  input: PlanSharedChannelInput,
  table: "write",
  grants: [{ actions: ["medialive:DescribeChannel"], on: "medialive" }],
  run: planSharedChannelPass,
});

export const handler = task.handler;
