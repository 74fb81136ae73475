import * as z from "zod";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { nowIso } from "#lib/sessions/model.ts";
import { getSession, ownedByGoLive, updateSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

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

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "mark-live",
  entry: import.meta.url,
  input: MarkLiveInput,
  table: "write",
  run: markLive,
});

export const handler = task.handler;
