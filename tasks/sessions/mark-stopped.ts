import * as z from "zod";
import { allOf, atVersion } from "#lib/conditional-update.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { closeBroadcast } from "#lib/sessions/model.ts";
import { getSession, ownedByStop, updateSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

export const MarkStoppedInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
});
export type MarkStoppedInput = z.infer<typeof MarkStoppedInput>;
export interface MarkStoppedOutput {
  readonly sessionId: string;
  readonly status: "idle";
  readonly stoppedAt: string;
}

/**
 * stopping -> idle, adding the broadcast's duration to `streaming.totalStreamedSeconds` in the
 * same conditional write (a retry after success finds the session idle and adds nothing). The
 * channel and input are kept for the next go-live (a stopped channel is not billed for encoding).
 */
export async function markStopped(input: MarkStoppedInput): Promise<MarkStoppedOutput> {
  const { sessionId, executionArn } = input;
  const owned = ownedByStop(executionArn);
  // Optimistic: the new total is computed from the record as read, so the write also requires
  // that nothing changed it in between; a concurrent write means read again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getSession(sessionId);
    const { streaming } = current ?? {};
    if (streaming?.status === "idle" && streaming.stopExecutionArn === executionArn && streaming.stoppedAt) {
      return { sessionId, status: "idle", stoppedAt: streaming.stoppedAt };
    }
    if (!current || streaming?.status !== "stopping" || streaming.stopExecutionArn !== executionArn) break;
    const now = new Date();
    const updated = await updateSession(sessionId, {
      set: {
        "streaming.status": "idle",
        "streaming.isLive": false,
        "streaming.stoppedAt": now.toISOString(),
        ...closeBroadcast(current, now),
      },
      remove: ["streaming.error", "streaming.playbackUrl"],
      condition: allOf(owned, atVersion(current.version)),
    });
    if (updated?.streaming.stoppedAt)
      return { sessionId, status: "idle", stoppedAt: updated.streaming.stoppedAt };
  }
  throw new TaskError(TaskErrors.SessionClaimLost, `Session ${sessionId} is no longer owned by this stop`);
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "mark-stopped",
  entry: import.meta.url,
  input: MarkStoppedInput,
  table: "write",
  run: markStopped,
});

export const handler = task.handler;
