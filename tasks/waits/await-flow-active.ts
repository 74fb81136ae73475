import type * as z from "zod";
import { getSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { awaitState } from "#lib/waits.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";
import { FlowUserInput } from "#tasks/destinations/acquire-flow.ts";
import * as poll from "#tasks/destinations/await-flow-active.ts";
import { ROUND_FIELDS } from "./channel-round.ts";

export const AwaitFlowActiveEventInput = FlowUserInput.extend(ROUND_FIELDS);

/**
 * One round of an event-driven "wait until the flow is ACTIVE" (lib/waits.ts): registers the
 * state's token under the source's flow, then does what one poll does (`awaitFlowActive`: starts
 * a STANDBY flow, counts a flow its last user is stopping as STOPPING); a state outside `pending`
 * completes the wait at once, otherwise the flow's next "MediaConnect Flow Status Change" event
 * does (`wake-flow-waits`), or the state's TimeoutSeconds starts another round.
 */
export async function awaitFlowActiveEvent(
  input: z.infer<typeof AwaitFlowActiveEventInput>,
  ctx: TaskContext,
) {
  const flowArn = (await getSource(input.sourceId))?.flow?.flowArn;
  if (!flowArn) throw new TaskError(TaskErrors.SourceUnavailable, `Source ${input.sourceId} is gone`);
  return awaitState(
    { kind: "flow", id: flowArn, token: input.taskToken, pending: input.pending },
    async () =>
      (await poll.awaitFlowActive({ sourceId: input.sourceId, destinationId: input.destinationId }, ctx))
        .state,
  );
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "await-flow-active-event",
  entry: import.meta.url,
  input: AwaitFlowActiveEventInput,
  // What one poll needs (it records the flow's phase and billed run on the source), and the wake.
  table: poll.task.table,
  grants: [...poll.task.grants, { actions: ["states:SendTaskSuccess"], on: "state-machines" }],
  run: awaitFlowActiveEvent,
});

export const handler = task.handler;
