import { flowStatus, startFlow } from "#lib/aws/mediaconnect.ts";
import { config } from "#lib/config.ts";
import { getSource, openFlowRun, updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { FlowUserInput } from "./acquire-flow.ts";

export interface AwaitFlowActiveOutput {
  /** `ACTIVE` when the destination can start on the flow; anything else: poll again. */
  readonly state: string;
}

/**
 * One poll of "wait until the flow is ACTIVE" for a destination that acquired it: starts a
 * STANDBY flow (free while STANDBY, billed from now on), and reports STARTING/STOPPING as
 * pending. A flow whose last user decided to stop it (`flowPhase` stopping) counts as stopping
 * even while still ACTIVE, so this destination waits for STANDBY and starts it again instead of
 * starting its channel on a flow about to go away.
 */
export async function awaitFlowActive(
  input: FlowUserInput,
  { signal }: TaskContext,
): Promise<AwaitFlowActiveOutput> {
  const source = await getSource(input.sourceId);
  const flowArn = source?.flow?.flowArn;
  if (!source || !flowArn)
    throw new TaskError(TaskErrors.SourceUnavailable, `Source ${input.sourceId} is gone`);
  const status = await flowStatus(flowArn, signal);
  if (status === "DELETED" || status === "DELETING" || status === "ERROR")
    throw new TaskError(TaskErrors.SourceUnavailable, `Flow of source ${input.sourceId} is ${status}`);
  const phaseAge = Date.now() - Date.parse(source.flowPhaseAt ?? source.updatedAt);
  if (
    source.flowPhase === "stopping" &&
    status === "ACTIVE" &&
    phaseAge < config().FLOW_STOP_LEASE_SECONDS * 1000
  )
    return { state: "STOPPING" };
  if (status === "STANDBY") {
    const now = await startFlow(flowArn, signal);
    logger.info("Started flow", { sourceId: input.sourceId, destinationId: input.destinationId });
    await markActive(input.sourceId);
    return { state: now };
  }
  if (status === "ACTIVE" && source.flowPhase !== "active") await markActive(input.sourceId);
  return { state: status };
}

/** The flow is ACTIVE for its users: its phase says so, and its billed run is open. */
async function markActive(sourceId: string): Promise<void> {
  const now = new Date().toISOString();
  await updateSource(sourceId, { set: { flowPhase: "active", flowPhaseAt: now } });
  await openFlowRun(sourceId, now);
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "await-flow-active",
  entry: import.meta.url,
  input: FlowUserInput,
  table: "write",
  grants: [{ actions: ["mediaconnect:DescribeFlow", "mediaconnect:StartFlow"], on: "mediaconnect" }],
  run: awaitFlowActive,
});

export const handler = task.handler;
