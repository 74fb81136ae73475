import * as z from "zod";
import { channelState, liveInput } from "#lib/aws/medialive.ts";
import { errorName, publicErrorMessage } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { getSession, ownedByGoLive, ownedByStop, updateSession } from "#lib/sessions/store.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const RecordFailureInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  lifecycle: z.enum(["go-live", "stop-streaming"]),
  /** The error caught by the state machine (`Error`, `Cause`). */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
  /** An error of the compensation itself, if it failed too. */
  cleanupError: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type RecordFailureInput = z.infer<typeof RecordFailureInput>;
export interface RecordFailureOutput {
  readonly recorded: boolean;
}

/**
 * Last step of every failure path: the session leaves its transitional state for `error`, with
 * the reason, so nothing stays `starting` or `stopping`. Ids of resources that no longer exist
 * (deleted by the compensation) are removed from the record. Only the owning execution writes.
 */
export async function recordFailure(
  input: RecordFailureInput,
  { signal }: TaskContext,
): Promise<RecordFailureOutput> {
  const { sessionId, executionArn } = input;
  const session = await getSession(sessionId);
  if (!session) return { recorded: false };
  const remove = input.lifecycle === "go-live" ? ["streaming.startedAt"] : [];
  const { channelId, inputIds } = session.mediaLive;
  // Tidying the record is best effort: this step must land even when MediaLive is what failed.
  try {
    if (channelId && (await channelState(channelId, signal)) === "DELETED") {
      remove.push("mediaLive.channelId", "mediaLive.channelArn");
    }
    if (inputIds.host && !(await liveInput(inputIds.host, signal))) {
      remove.push("mediaLive.inputIds.host", "mediaLive.rtmpEndpoints.host");
    }
  } catch (err) {
    logger.warn("Could not check which MediaLive resources remain; keeping their ids", {
      error: errorName(err),
    });
  }
  let message = publicErrorMessage(input.error.Error, input.error.Cause);
  if (input.cleanupError) {
    const cleanup = publicErrorMessage(input.cleanupError.Error, input.cleanupError.Cause);
    message += ` (clean-up also failed: ${input.cleanupError.Error}: ${cleanup})`.slice(0, 600);
  }
  const updated = await updateSession(sessionId, {
    set: {
      "streaming.status": "error",
      "streaming.isLive": false,
      "streaming.error": { code: input.error.Error, message },
    },
    remove,
    condition: input.lifecycle === "go-live" ? ownedByGoLive(executionArn) : ownedByStop(executionArn),
  });
  return { recorded: updated !== undefined };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "record-failure",
  entry: import.meta.url,
  input: RecordFailureInput,
  table: "write",
  grants: [{ actions: ["medialive:DescribeChannel", "medialive:DescribeInput"], on: "medialive" }],
  run: recordFailure,
});

export const handler = task.handler;
