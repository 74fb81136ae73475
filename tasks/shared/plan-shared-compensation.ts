import { channelState } from "#lib/aws/medialive.ts";
import { mayKeepRunning, SHARED_FLOW_USER, toPlanDestination } from "#lib/destinations/shared-plan.ts";
import { getSource, listDestinations } from "#lib/destinations/store.ts";
import { logger } from "#lib/logger.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { SharedApplyTaskInput } from "./claim-shared-channel.ts";

export interface PlanSharedCompensationOutput {
  /** The channel to stop (null: keep it as it is). */
  readonly stopChannelId: string | null;
  /** Leave the flow (the last user out stops it). */
  readonly releaseFlow: boolean;
  readonly flowUser: string;
}

const AT_REST = new Set(["IDLE", "CREATE_FAILED", "UPDATE_FAILED", "DELETING", "DELETED"]);

/**
 * What a failed pass's clean-up does: the channel keeps running only if it carries exactly
 * destinations that are settled `running` with the settings they want (`mayKeepRunning`);
 * otherwise it is stopped and the flow released, so nothing runs for a destination that did not
 * ask for it. An execution that no longer holds the channel touches nothing.
 */
export async function planSharedCompensation(
  input: SharedApplyTaskInput,
  { signal }: TaskContext,
): Promise<PlanSharedCompensationOutput> {
  const nothing = { stopChannelId: null, releaseFlow: false, flowUser: SHARED_FLOW_USER };
  const source = await getSource(input.sourceId);
  if (!source?.shared || source.shared.apply?.executionArn !== input.executionArn) return nothing;
  const channelId = source.shared.channelId ?? null;
  const state = channelId ? await channelState(channelId, signal) : "DELETED";
  const destinations = (await listDestinations({ sourceId: source.sourceId })).filter(
    (d) => d.status !== "deleted",
  );
  const keep = mayKeepRunning({
    destinations: destinations.map(toPlanDestination),
    channel: { channelId, state, configured: source.shared.outputs },
  });
  logger.info("Cleaning up after a failed shared channel pass", {
    sourceId: source.sourceId,
    channelState: state,
    keepRunning: keep,
  });
  return {
    stopChannelId: !keep && channelId && !AT_REST.has(state) ? channelId : null,
    releaseFlow: !keep && source.flowUsers[SHARED_FLOW_USER] !== undefined,
    flowUser: SHARED_FLOW_USER,
  };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "plan-shared-compensation",
  entry: import.meta.url,
  input: SharedApplyTaskInput,
  table: "read",
  grants: [{ actions: ["medialive:DescribeChannel"], on: "medialive" }],
  run: planSharedCompensation,
});

export const handler = task.handler;
