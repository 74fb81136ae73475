import * as z from "zod";
import { mayTakeOver } from "#lib/aws/executions.ts";
import { findChannelsByTags, findInputsByTags } from "#lib/aws/medialive.ts";
import { atVersion } from "#lib/conditional-update.ts";
import { sessionNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { type Session, Tags, uncountedBroadcastSeconds } from "#lib/sessions/model.ts";
import { getSession, updateSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

export const ClaimEndInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
});
export type ClaimEndInput = z.infer<typeof ClaimEndInput>;

export interface ClaimEndOutput {
  /** True when the session already ended with everything cleaned up: nothing to do. */
  readonly alreadyEnded: boolean;
  readonly channelId: string | null;
  readonly inputId: string | null;
  readonly relayChannelArn: string | null;
  readonly persistentChannelId: string | null;
  /** A legacy session's own program channel, deleted with the session. */
  readonly programChannelArn: string | null;
}

const output = (
  s: Session,
  alreadyEnded = false,
  untracked: { channelId?: string; inputId?: string } = {},
): ClaimEndOutput => ({
  alreadyEnded,
  channelId: s.mediaLive.channelId ?? untracked.channelId ?? null,
  inputId: s.mediaLive.inputIds.host ?? untracked.inputId ?? null,
  relayChannelArn: s.ivs.relayChannelArn ?? null,
  persistentChannelId: s.ivs.persistentChannelId ?? null,
  programChannelArn: s.ivs.persistentChannelId ? null : (s.ivs.programChannelArn ?? null),
});

/**
 * MediaLive resources tagged with the session that its record does not name: a go-live that died
 * after creating them and before saving them (beyond go-live's own compensation).
 */
async function untrackedResources(s: Session): Promise<{ channelId?: string; inputId?: string }> {
  const tags = { [Tags.sessionId]: s.sessionId };
  const [channel] = s.mediaLive.channelId ? [] : await findChannelsByTags(tags);
  const [input] = s.mediaLive.inputIds.host ? [] : await findInputsByTags(tags);
  return { ...(channel?.Id ? { channelId: channel.Id } : {}), ...(input?.Id ? { inputId: input.Id } : {}) };
}

const fullyCleaned = (s: Session) =>
  Object.values(s.end?.cleanupResults ?? {}).every((r) => r === undefined || r.success);

/** Seconds streamed so far, counting a broadcast not yet counted (live, or whose stop failed). */
export function streamedSeconds(s: Session, now: Date): number {
  return s.streaming.totalStreamedSeconds + uncountedBroadcastSeconds(s, now);
}

/**
 * Claims the session for end-session: active -> ending. Defined behaviour while a go-live or a
 * stop is under way: this task fails with `SessionBusy` and the state retries it (up to 15
 * minutes), so the end waits for that lifecycle to settle (live, idle or error) rather than
 * cancelling it half-way; one that died (closed execution) is not waited for.
 * Freezes the streamed time once, for the persistent channel's statistics.
 * Ending an ended session whose clean-up fully succeeded is a no-op; one whose clean-up failed
 * in part is claimed again, so running end-session again retries the failed parts.
 */
export async function claimEnd(input: ClaimEndInput): Promise<ClaimEndOutput> {
  // A write that lands between the read and the claim (the API recording the end request, a
  // lifecycle settling) moves the version: read again at once rather than wait for the state's
  // 30 s SessionBusy retry.
  for (let attempt = 0; attempt < VERSION_RACE_ATTEMPTS; attempt++) {
    const claimed = await tryClaimEnd(input);
    if (claimed) return claimed;
  }
  throw new TaskError(
    TaskErrors.SessionBusy,
    `Session ${input.sessionId} kept changing while being claimed; retrying`,
  );
}

/** Reads made before a claim gives up on a record that keeps changing. */
const VERSION_RACE_ATTEMPTS = 5;

/** One read and claim; undefined when the record changed in between. */
async function tryClaimEnd(input: ClaimEndInput): Promise<ClaimEndOutput | undefined> {
  const { sessionId, executionArn } = input;
  const session = await getSession(sessionId);
  if (!session) throw sessionNotFound(sessionId);
  if (session.status === "ended" && fullyCleaned(session)) return output(session, true);
  if (session.status === "ending" && session.end?.executionArn === executionArn) {
    return output(session, false, await untrackedResources(session));
  }

  const { streaming } = session;
  const busyArn =
    streaming.status === "starting"
      ? streaming.executionArn
      : streaming.status === "stopping"
        ? streaming.stopExecutionArn
        : undefined;
  if (busyArn !== undefined && !(await mayTakeOver(busyArn))) {
    throw new TaskError(
      TaskErrors.SessionBusy,
      `Session ${sessionId} is ${streaming.status} (${busyArn}); the end waits for it to settle`,
    );
  }
  const previousEnd = session.status === "ending" ? session.end?.executionArn : undefined;
  if (previousEnd && !(await mayTakeOver(previousEnd))) {
    throw new TaskError(TaskErrors.SessionBusy, `Session ${sessionId} is being ended by ${previousEnd}`);
  }

  const claimed = await updateSession(sessionId, {
    set: {
      status: "ending",
      end: {
        ...session.end,
        executionArn,
        streamedSeconds: session.end?.streamedSeconds ?? streamedSeconds(session, new Date()),
      },
    },
    // Nothing moved since the read: the end snapshot (and the busy check) are based on it.
    condition: atVersion(session.version),
  });
  if (!claimed) return undefined;
  return output(claimed, false, await untrackedResources(claimed));
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "claim-end",
  entry: import.meta.url,
  input: ClaimEndInput,
  table: "write",
  grants: [
    { actions: ["states:DescribeExecution"], on: "states" },
    // MediaLive resources tagged with the session but missing from its record.
    { actions: ["medialive:ListChannels", "medialive:ListInputs"], on: "*" },
  ],
  run: claimEnd,
});

export const handler = task.handler;
