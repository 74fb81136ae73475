import * as z from "zod";
import { TaskError, TaskErrors } from "../lib/errors.ts";
import { nowIso } from "../lib/session.ts";
import { getSession, ownedByStop, updateSession } from "../lib/session-store.ts";
import { taskHandler } from "../lib/task.ts";

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

/** stopping -> idle. The channel and input are kept for the next go-live (a stopped channel is not billed for encoding). */
export async function markStopped(input: MarkStoppedInput): Promise<MarkStoppedOutput> {
  const { sessionId, executionArn } = input;
  const updated = await updateSession(sessionId, {
    set: { "streaming.status": "idle", "streaming.isLive": false, "streaming.stoppedAt": nowIso() },
    remove: ["streaming.error", "streaming.playbackUrl"],
    condition: ownedByStop(executionArn),
  });
  const session = updated ?? (await getSession(sessionId));
  const { streaming } = session ?? {};
  if (streaming?.status === "idle" && streaming.stopExecutionArn === executionArn && streaming.stoppedAt) {
    return { sessionId, status: "idle", stoppedAt: streaming.stoppedAt };
  }
  throw new TaskError(TaskErrors.SessionClaimLost, `Session ${sessionId} is no longer owned by this stop`);
}

export const handler = taskHandler("mark-stopped", MarkStoppedInput, markStopped);
