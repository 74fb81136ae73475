import * as z from "zod";
import { mayTakeOver } from "#lib/aws/executions.ts";
import { sessionNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { programTarget, type Session } from "#lib/sessions/model.ts";
import { getSession, updateSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

export const ClaimSessionInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  attempt: z.number().int().positive(),
});
export type ClaimSessionInput = z.infer<typeof ClaimSessionInput>;

export interface ClaimSessionOutput {
  readonly sessionId: string;
  /** The IVS channel the program goes to: the host's persistent channel, or the session's own. */
  readonly programChannelArn: string;
  /** The channel already recorded on the session, to be reused if it still exists. */
  readonly channelId: string | null;
  readonly inputId: string | null;
}

const output = (s: Session): ClaimSessionOutput => ({
  sessionId: s.sessionId,
  programChannelArn: programTarget(s)?.arn ?? "",
  channelId: s.mediaLive.channelId ?? null,
  inputId: s.mediaLive.inputIds.host ?? null,
});

/** The session itself is not ending: end-session and go-live never overlap. */
const STILL_ACTIVE = "(attribute_not_exists(#status) OR #status = :active)";

/**
 * Claims the session for this go-live execution: idle or error -> starting, atomically.
 * A session left `starting` by an execution that has since closed (stopped, timed out, or lost
 * with a restarted local runtime) is taken over, so nothing stays stuck in `starting`.
 * Re-running the task for the same execution is a no-op.
 */
export async function claimSession(input: ClaimSessionInput): Promise<ClaimSessionOutput> {
  const { sessionId, executionArn, attempt } = input;
  const session = await getSession(sessionId);
  if (!session) throw sessionNotFound(sessionId);
  if (session.status !== "active") {
    throw new TaskError(
      TaskErrors.SessionBusy,
      `Session ${sessionId} is ${session.status}; it cannot go live`,
    );
  }
  if (!programTarget(session)) {
    throw new TaskError(
      TaskErrors.ProgramChannelMissing,
      `Session ${sessionId} has no IVS channel to stream to`,
    );
  }
  const { status } = session.streaming;
  if (status === "starting" && session.streaming.executionArn === executionArn) return output(session);

  const claim = {
    "streaming.status": "starting",
    "streaming.isLive": false,
    "streaming.executionArn": executionArn,
    "streaming.attempt": Math.max(attempt, session.streaming.attempt),
  };
  let claimed: Session | undefined;
  if (status === "idle" || status === "error") {
    claimed = await updateSession(sessionId, {
      set: claim,
      remove: ["streaming.error"],
      condition: {
        expression: `#streaming.#status IN (:idle, :error) AND ${STILL_ACTIVE}`,
        names: { "#streaming": "streaming", "#status": "status" },
        values: { ":idle": "idle", ":error": "error", ":active": "active" },
      },
    });
  } else if (status === "starting" && session.streaming.executionArn) {
    const previous = session.streaming.executionArn;
    if (await mayTakeOver(previous)) {
      logger.warn("Taking over a session left starting by a closed execution", { previous });
      claimed = await updateSession(sessionId, {
        set: claim,
        remove: ["streaming.error"],
        condition: {
          expression: `#streaming.#status = :starting AND #streaming.#executionArn = :previous AND ${STILL_ACTIVE}`,
          names: { "#streaming": "streaming", "#status": "status", "#executionArn": "executionArn" },
          values: { ":starting": "starting", ":previous": previous, ":active": "active" },
        },
      });
    }
  }
  if (!claimed) {
    throw new TaskError(
      TaskErrors.SessionBusy,
      `Session ${sessionId} is ${status}${session.streaming.executionArn ? ` (owned by ${session.streaming.executionArn})` : ""}; go-live needs it idle or in error`,
    );
  }
  return output(claimed);
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "claim-session",
  entry: import.meta.url,
  input: ClaimSessionInput,
  table: "write",
  grants: [{ actions: ["states:DescribeExecution"], on: "states" }],
  run: claimSession,
});

export const handler = task.handler;
