import * as z from "zod";
import { mayTakeOver } from "#lib/aws/executions.ts";
import { sessionNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import type { Session } from "#lib/sessions/model.ts";
import { getSession, updateSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

export const ClaimStopInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
});
export type ClaimStopInput = z.infer<typeof ClaimStopInput>;
export interface ClaimStopOutput {
  /** True when the session was already idle: nothing to do. */
  readonly alreadyStopped: boolean;
  readonly channelId: string | null;
}

const output = (s: Session, alreadyStopped = false): ClaimStopOutput => ({
  alreadyStopped,
  channelId: s.mediaLive.channelId ?? null,
});

/**
 * Claims the session for this stop: live or error -> stopping. Stopping from `error` lets an
 * operator stop a channel a failed lifecycle left running. A session left `starting` or
 * `stopping` by an execution that has closed (timed out, aborted) is taken over, so no session
 * stays stuck where the host cannot stop it. An idle session needs nothing; one whose go-live
 * still runs is refused (the API answers 409 for it). Only active sessions (not ending) qualify.
 */
export async function claimStop(input: ClaimStopInput): Promise<ClaimStopOutput> {
  const { sessionId, executionArn } = input;
  const session = await getSession(sessionId);
  if (!session) throw sessionNotFound(sessionId);
  const { status, stopExecutionArn, executionArn: goLiveArn } = session.streaming;
  if (status === "idle") return output(session, true);
  if (status === "stopping" && stopExecutionArn === executionArn) return output(session);
  if (session.status !== "active") {
    throw new TaskError(TaskErrors.SessionBusy, `Session ${sessionId} is ${session.status}`);
  }
  // The owner whose place this stop takes, when the session is in a transitional state.
  const owner = status === "stopping" ? stopExecutionArn : status === "starting" ? goLiveArn : undefined;
  const ownerField = status === "stopping" ? "stopExecutionArn" : "executionArn";
  const takeover = owner !== undefined && (await mayTakeOver(owner));
  if (status === "live" || status === "error" || takeover) {
    const claimed = await updateSession(sessionId, {
      set: { "streaming.status": "stopping", "streaming.stopExecutionArn": executionArn },
      condition: {
        expression: `#streaming.#status = :status AND (attribute_not_exists(#status) OR #status = :active)${takeover ? " AND #streaming.#owner = :owner" : ""}`,
        names: {
          "#streaming": "streaming",
          "#status": "status",
          ...(takeover ? { "#owner": ownerField } : {}),
        },
        values: { ":status": status, ":active": "active", ...(takeover ? { ":owner": owner } : {}) },
      },
    });
    if (claimed) return output(claimed);
  }
  throw new TaskError(
    TaskErrors.SessionBusy,
    `Session ${sessionId} is ${status}; stop needs it live or in error`,
  );
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "claim-stop",
  entry: import.meta.url,
  input: ClaimStopInput,
  table: "write",
  grants: [{ actions: ["states:DescribeExecution"], on: "states" }],
  run: claimStop,
});

export const handler = task.handler;
