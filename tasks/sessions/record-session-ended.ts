import * as z from "zod";
import { publicErrorMessage, TaskError, TaskErrors } from "#lib/errors.ts";
import { type CleanupResult, closeBroadcast } from "#lib/sessions/model.ts";
import { getSession, updateSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

const PartName = z.enum(["mediaLive", "relayChannel", "persistentChannel", "programChannel"]);
export const Part = z.object({
  part: PartName,
  attempted: z.boolean(),
  success: z.boolean(),
  /** As Step Functions caught it: `{Error, Cause}`. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).nullable().optional(),
});

/** One part of the clean-up as the state machine reports it. */
export type CleanupPart = z.input<typeof Part>;

export const RecordSessionEndedInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  parts: z.array(Part).min(1),
});
export type RecordSessionEndedInput = z.infer<typeof RecordSessionEndedInput>;

export interface RecordSessionEndedOutput {
  readonly allSucceeded: boolean;
  readonly failedParts: string[];
}

/**
 * Marks the session `ended` with `cleanupResults` for each part. A part that failed is recorded
 * (and the execution then fails, for the alarm); ending the session again retries it. Ids of
 * resources that are gone are removed from the record.
 */
export async function recordSessionEnded(input: RecordSessionEndedInput): Promise<RecordSessionEndedOutput> {
  const { sessionId, executionArn } = input;
  const results: Record<string, CleanupResult> = {};
  for (const p of input.parts) {
    results[p.part] = {
      attempted: p.attempted,
      success: p.success,
      error: p.error
        ? { code: p.error.Error, message: publicErrorMessage(p.error.Error, p.error.Cause) }
        : null,
    };
  }
  const failedParts = Object.entries(results)
    .filter(([, r]) => !r.success)
    .map(([name]) => name);
  const session = await getSession(sessionId);
  if (!session) throw new TaskError(TaskErrors.SessionNotFound, `Session ${sessionId} does not exist`);
  if (session.status === "ended" && session.end?.executionArn === executionArn) {
    return { allSucceeded: failedParts.length === 0, failedParts };
  }
  const remove: string[] = [];
  if (results.mediaLive?.success) {
    remove.push(
      "mediaLive.channelId",
      "mediaLive.channelArn",
      "mediaLive.inputIds.host",
      "mediaLive.rtmpEndpoints.host",
    );
  }
  if (results.relayChannel?.success)
    remove.push("ivs.relayChannelArn", "ivs.relayIngestEndpoint", "ivs.relayPlaybackUrl");
  const updated = await updateSession(sessionId, {
    set: {
      status: "ended",
      "end.endedAt": new Date().toISOString(),
      "end.cleanupResults": results,
      // Not streaming any more, unless the MediaLive part failed: then its channel may still run.
      ...(results.mediaLive?.success
        ? { "streaming.status": "idle", "streaming.isLive": false, ...closeBroadcast(session, new Date()) }
        : {}),
    },
    remove,
    condition: {
      expression: "#status = :ending AND #end.#executionArn = :exec",
      names: { "#status": "status", "#end": "end", "#executionArn": "executionArn" },
      values: { ":ending": "ending", ":exec": executionArn },
    },
  });
  if (!updated)
    throw new TaskError(
      TaskErrors.SessionClaimLost,
      `Session ${sessionId} is not being ended by this execution`,
    );
  return { allSucceeded: failedParts.length === 0, failedParts };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "record-session-ended",
  entry: import.meta.url,
  input: RecordSessionEndedInput,
  table: "write",
  run: recordSessionEnded,
});

export const handler = task.handler;
