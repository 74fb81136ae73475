import * as z from "zod";
import { causeMessage } from "../lib/errors.ts";
import { channelState, liveInput } from "../lib/medialive.ts";
import { getSession, ownedByGoLive, ownedByStop, updateSession } from "../lib/session-store.ts";
import { type TaskContext, taskHandler } from "../lib/task.ts";

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
  if (channelId && (await channelState(channelId, signal)) === "DELETED") {
    remove.push("mediaLive.channelId", "mediaLive.channelArn");
  }
  if (inputIds.host && !(await liveInput(inputIds.host, signal))) {
    remove.push("mediaLive.inputIds.host", "mediaLive.rtmpEndpoints.host");
  }
  let message = `${input.error.Error}: ${causeMessage(input.error.Cause)}`.slice(0, 1000);
  if (input.cleanupError) {
    message +=
      ` (cleanup also failed: ${input.cleanupError.Error}: ${causeMessage(input.cleanupError.Cause)})`.slice(
        0,
        500,
      );
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

export const handler = taskHandler("record-failure", RecordFailureInput, recordFailure);
