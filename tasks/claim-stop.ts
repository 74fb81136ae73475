import * as z from "zod";
import { sessionNotFound, TaskError, TaskErrors } from "../lib/errors.ts";
import { executionIsClosed } from "../lib/executions.ts";
import type { Session } from "../lib/session.ts";
import { getSession, updateSession } from "../lib/session-store.ts";
import { taskHandler } from "../lib/task.ts";

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
 * operator stop a channel a failed lifecycle left running. An idle session needs nothing; a
 * starting one belongs to its go-live (stop is refused, as the API refuses it with 409).
 */
export async function claimStop(input: ClaimStopInput): Promise<ClaimStopOutput> {
  const { sessionId, executionArn } = input;
  const session = await getSession(sessionId);
  if (!session) throw sessionNotFound(sessionId);
  const { status, stopExecutionArn } = session.streaming;
  if (status === "idle") return output(session, true);
  if (status === "stopping" && stopExecutionArn === executionArn) return output(session);
  let previous: string | undefined;
  if (status === "stopping" && stopExecutionArn && (await executionIsClosed(stopExecutionArn)))
    previous = stopExecutionArn;
  if (status === "live" || status === "error" || previous) {
    const claimed = await updateSession(sessionId, {
      set: { "streaming.status": "stopping", "streaming.stopExecutionArn": executionArn },
      condition: previous
        ? {
            expression: "#streaming.#status = :stopping AND #streaming.#stopExecutionArn = :previous",
            names: {
              "#streaming": "streaming",
              "#status": "status",
              "#stopExecutionArn": "stopExecutionArn",
            },
            values: { ":stopping": "stopping", ":previous": previous },
          }
        : {
            expression: "#streaming.#status = :status",
            names: { "#streaming": "streaming", "#status": "status" },
            values: { ":status": status },
          },
    });
    if (claimed) return output(claimed);
  }
  throw new TaskError(
    TaskErrors.SessionBusy,
    `Session ${sessionId} is ${status}; stop needs it live or in error`,
  );
}

export const handler = taskHandler("claim-stop", ClaimStopInput, claimStop);
