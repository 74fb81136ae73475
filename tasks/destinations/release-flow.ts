import { flowStatus, stopFlow } from "#lib/aws/mediaconnect.ts";
import { closeFlowRun, getSource, updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { FlowUserInput } from "./acquire-flow.ts";

export interface ReleaseFlowOutput {
  /** True when this destination was the flow's last user and the flow is stopping. */
  readonly stopped: boolean;
}

/**
 * Removes the destination from its flow's users; the last one out stops the flow (STANDBY is
 * free). The decision is one conditional write (`flowPhase` -> stopping only while nobody uses
 * the flow), so a destination acquiring the flow at the same moment either keeps it running or
 * sees it stopping and starts it again once it is STANDBY: never a channel started on a flow
 * that is being stopped under it. Safe to repeat.
 */
export async function releaseFlow(
  input: FlowUserInput,
  context: TaskContext,
  options: { readonly since?: string } = {},
): Promise<ReleaseFlowOutput> {
  const source = await getSource(input.sourceId);
  if (!source?.flow?.flowArn) return { stopped: false };
  // With `since` (reconcile), only the acquisition made then is taken off (or one already gone,
  // for a retried release): a destination that acquired the flow again since keeps it.
  const removed = await updateSource(input.sourceId, {
    remove: [`flowUsers.${input.destinationId}`],
    ...(options.since
      ? {
          condition: {
            expression: "#flowUsers.#user = :since OR attribute_not_exists(#flowUsers.#user)",
            names: { "#flowUsers": "flowUsers", "#user": input.destinationId },
            values: { ":since": options.since },
          },
        }
      : {}),
  });
  if (!removed) return { stopped: false };
  return await stopFlowIfUnused(input, context);
}

/** If nobody uses the flow, this destination decides to stop it and stops it. */
async function stopFlowIfUnused(input: FlowUserInput, { signal }: TaskContext): Promise<ReleaseFlowOutput> {
  const source = await getSource(input.sourceId);
  const flowArn = source?.flow?.flowArn;
  if (!source || !flowArn) return { stopped: false };
  const now = new Date().toISOString();
  const decided = await updateSource(input.sourceId, {
    set: { flowPhase: "stopping", flowPhaseAt: now, flowPhaseBy: input.destinationId },
    condition: {
      expression: "(attribute_not_exists(#flowUsers) OR size(#flowUsers) = :zero) AND #flowPhase <> :standby",
      values: { ":zero": 0, ":standby": "standby" },
    },
  });
  if (!decided) {
    // A re-run of a release that already decided (and failed or died before StopFlow finished):
    // its decision stands even if a destination acquired the flow since. That destination sees
    // the flow stopping and starts it again once STANDBY; leaving the decision half done would
    // have it wait for a stop that never comes.
    const current = await getSource(input.sourceId);
    if (current?.flowPhase !== "stopping" || current.flowPhaseBy !== input.destinationId)
      return { stopped: false };
  }
  if ((await flowStatus(flowArn, signal)) === "STARTING") {
    // MediaConnect refuses to stop a starting flow. A destination that acquired it since the
    // decision is starting it again (it needs it: leave it); with nobody on it, it is a start that
    // was abandoned half-way: stopped once it is ACTIVE (FlowNotReady is retried).
    const current = await getSource(input.sourceId);
    if (Object.keys(current?.flowUsers ?? {}).length > 0) return { stopped: false };
    throw new TaskError(
      TaskErrors.FlowNotReady,
      `Flow of source ${input.sourceId} is STARTING; stopped once ACTIVE`,
    );
  }
  await stopFlow(flowArn, signal);
  await closeFlowRun(input.sourceId, new Date());
  logger.info("Stopped flow: no destination uses it", { sourceId: input.sourceId });
  return { stopped: true };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "release-flow",
  entry: import.meta.url,
  input: FlowUserInput,
  table: "write",
  grants: [{ actions: ["mediaconnect:DescribeFlow", "mediaconnect:StopFlow"], on: "mediaconnect" }],
  run: releaseFlow,
});

export const handler = task.handler;
