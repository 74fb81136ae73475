import * as z from "zod";
import { TaskError, TaskErrors } from "../lib/errors.ts";
import { nowIso } from "../lib/session.ts";
import { getSession, ownedByGoLive, updateSession } from "../lib/session-store.ts";
import { taskHandler } from "../lib/task.ts";

export const MarkLiveInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  playbackUrl: z.string().min(1),
});
export type MarkLiveInput = z.infer<typeof MarkLiveInput>;
export interface MarkLiveOutput {
  readonly sessionId: string;
  readonly status: "live";
  readonly startedAt: string;
  readonly playbackUrl: string;
}

/** starting -> live, only for the execution that owns the session; a retry after success is a no-op. */
export async function markLive(input: MarkLiveInput): Promise<MarkLiveOutput> {
  const { sessionId, executionArn, playbackUrl } = input;
  const updated = await updateSession(sessionId, {
    set: {
      "streaming.status": "live",
      "streaming.isLive": true,
      "streaming.startedAt": nowIso(),
      "streaming.playbackUrl": playbackUrl,
    },
    remove: ["streaming.stoppedAt", "streaming.error"],
    condition: ownedByGoLive(executionArn),
  });
  const session = updated ?? (await getSession(sessionId));
  const { streaming } = session ?? {};
  if (streaming?.status === "live" && streaming.executionArn === executionArn && streaming.startedAt) {
    return { sessionId, status: "live", startedAt: streaming.startedAt, playbackUrl };
  }
  throw new TaskError(TaskErrors.SessionClaimLost, `Session ${sessionId} is no longer owned by this go-live`);
}

export const handler = taskHandler("mark-live", MarkLiveInput, markLive);
