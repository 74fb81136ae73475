import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import * as z from "zod";
import { sfn } from "../lib/clients.ts";
import { errorName, sessionNotFound, TaskError, TaskErrors } from "../lib/errors.ts";
import { logger } from "../lib/logger.ts";
import type { Session } from "../lib/session.ts";
import { getSession, updateSession } from "../lib/session-store.ts";
import { taskHandler } from "../lib/task.ts";

export const ClaimSessionInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  attempt: z.number().int().positive(),
});
export type ClaimSessionInput = z.infer<typeof ClaimSessionInput>;

export interface ClaimSessionOutput {
  readonly sessionId: string;
  readonly programChannelArn: string;
  /** The channel already recorded on the session, to be reused if it still exists. */
  readonly channelId: string | null;
  readonly inputId: string | null;
}

const output = (s: Session): ClaimSessionOutput => ({
  sessionId: s.sessionId,
  programChannelArn: s.ivs.programChannelArn,
  channelId: s.mediaLive.channelId ?? null,
  inputId: s.mediaLive.inputIds.host ?? null,
});

/** True when the execution that last claimed the session can no longer make progress. */
async function executionIsClosed(executionArn: string): Promise<boolean> {
  try {
    const res = await sfn().send(
      new DescribeExecutionCommand({ executionArn, includedData: "METADATA_ONLY" }),
    );
    return res.status !== "RUNNING";
  } catch (err) {
    if (errorName(err) === "ExecutionDoesNotExist") return true;
    throw err;
  }
}

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
        expression: "#streaming.#status IN (:idle, :error)",
        names: { "#streaming": "streaming", "#status": "status" },
        values: { ":idle": "idle", ":error": "error" },
      },
    });
  } else if (status === "starting" && session.streaming.executionArn) {
    const previous = session.streaming.executionArn;
    if (await executionIsClosed(previous)) {
      logger.warn("Taking over a session left starting by a closed execution", { previous });
      claimed = await updateSession(sessionId, {
        set: claim,
        remove: ["streaming.error"],
        condition: {
          expression: "#streaming.#status = :starting AND #streaming.#executionArn = :previous",
          names: { "#streaming": "streaming", "#status": "status", "#executionArn": "executionArn" },
          values: { ":starting": "starting", ":previous": previous },
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

export const handler = taskHandler("claim-session", ClaimSessionInput, claimSession);
