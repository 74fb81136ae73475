import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { dynamo } from "#lib/aws/clients.ts";
import { channelKey, toMinutes } from "#lib/channels/model.ts";
import { getChannel, releaseChannel } from "#lib/channels/store.ts";
import { config } from "#lib/config.ts";
import { sessionNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { nowIso, sessionKey } from "#lib/sessions/model.ts";
import { getSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

export const ReleasePersistentChannelInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  /** Whether the MediaLive part succeeded: only then may the channel go to another session. */
  mediaLiveStopped: z.boolean(),
});
export type ReleasePersistentChannelInput = z.infer<typeof ReleasePersistentChannelInput>;

export interface ReleasePersistentChannelOutput {
  /** True when this call moved the channel back to IDLE (false: it was not held by the session any more). */
  readonly released: boolean;
  /** True when this call added the session to the channel's statistics (false: already counted). */
  readonly statsRecorded: boolean;
}

interface StatsPlan {
  readonly sessionId: string;
  readonly channelId: string;
  readonly executionArn: string;
  readonly seconds: number;
}

/**
 * One transaction: flag the session as counted (only if it is not yet) and add it to the
 * channel's statistics, releasing the channel too when `release` (only if this session still
 * holds it). Returns undefined when the session was counted already.
 */
async function recordStats(
  plan: StatsPlan,
  release: boolean,
): Promise<ReleasePersistentChannelOutput | undefined> {
  const { sessionId, channelId, executionArn, seconds } = plan;
  const broadcast = seconds > 0;
  const now = nowIso();
  const markSession = {
    Update: {
      TableName: config().TABLE_NAME,
      Key: sessionKey(sessionId),
      // Every write moves the record's version (its optimistic lock; lib/conditional-update.ts).
      UpdateExpression:
        "SET #end.#statsRecorded = :true, updatedAt = :now, #version = if_not_exists(#version, :zero) + :one",
      ConditionExpression: "attribute_not_exists(#end.#statsRecorded) AND #end.#executionArn = :exec",
      ExpressionAttributeNames: {
        "#end": "end",
        "#statsRecorded": "statsRecorded",
        "#executionArn": "executionArn",
        "#version": "version",
      },
      ExpressionAttributeValues: { ":true": true, ":exec": executionArn, ":now": now, ":zero": 0, ":one": 1 },
    },
  };
  const channelUpdate = (withRelease: boolean) => ({
    Update: {
      TableName: config().TABLE_NAME,
      Key: channelKey(channelId),
      UpdateExpression: [
        "SET totalBroadcasts = totalBroadcasts + :b, totalStreamingMinutes = totalStreamingMinutes + :m, updatedAt = :now, #version = if_not_exists(#version, :zero) + :one",
        broadcast ? ", lastBroadcastAt = :now" : "",
        withRelease ? ", #state = :idle REMOVE currentSessionId" : "",
      ].join(""),
      ConditionExpression: withRelease
        ? "#state = :live AND currentSessionId = :session"
        : "attribute_exists(pk)",
      ExpressionAttributeNames: { "#version": "version", ...(withRelease ? { "#state": "state" } : {}) },
      ExpressionAttributeValues: {
        ":zero": 0,
        ":one": 1,
        ":b": broadcast ? 1 : 0,
        ":m": toMinutes(seconds),
        ":now": now,
        ...(withRelease ? { ":idle": "IDLE", ":live": "LIVE", ":session": sessionId } : {}),
      },
    },
  });
  for (const withRelease of release ? [true, false] : [false]) {
    try {
      await dynamo().send(
        new TransactWriteCommand({ TransactItems: [markSession, channelUpdate(withRelease)] }),
      );
      return { released: withRelease, statsRecorded: true };
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = err.CancellationReasons ?? [];
      if (reasons.some((r) => r.Code === "TransactionConflict")) {
        throw new TaskError(
          TaskErrors.TransactionConflict,
          `A concurrent write to channel ${channelId} or its session`,
        );
      }
      const [sessionFailed, channelFailed] = reasons.map((r) => r.Code === "ConditionalCheckFailed");
      if (sessionFailed) return undefined; // counted already (a lost answer of this very call)
      if (!channelFailed) throw err;
      // Not held by this session any more: count the statistics without touching its state.
    }
  }
  throw new TaskError(
    TaskErrors.ChannelNotFound,
    `Channel ${channelId} disappeared while recording its statistics`,
  );
}

/**
 * Hands the persistent channel back (LIVE -> IDLE, `currentSessionId` cleared; never deleted)
 * and adds the session to its statistics: `totalBroadcasts` +1 when anything was streamed,
 * `totalStreamingMinutes` += the minutes frozen when the end began, `lastBroadcastAt`.
 *
 * Exactly once: the statistics are written in one transaction with a `statsRecorded` flag on the
 * session, conditioned on the flag being absent. A retry, or end-session run again, finds the flag
 * and only makes sure the channel is released. A channel an admin already released (recovery of a
 * stuck LIVE channel) still gets the statistics.
 *
 * When the MediaLive part failed, the old channel may still push to this IVS channel: the
 * statistics are recorded but the channel stays claimed (`ChannelStillInUse`), and ending the
 * session again, once MediaLive is cleaned up, releases it.
 */
export async function releasePersistentChannel(
  input: ReleasePersistentChannelInput,
): Promise<ReleasePersistentChannelOutput> {
  const { sessionId, executionArn, mediaLiveStopped } = input;
  const session = await getSession(sessionId);
  if (!session) throw sessionNotFound(sessionId);
  const channelId = session.ivs.persistentChannelId;
  if (!channelId) return { released: false, statsRecorded: false };
  if (session.status !== "ending" || session.end?.executionArn !== executionArn) {
    throw new TaskError(
      TaskErrors.SessionClaimLost,
      `Session ${sessionId} is not being ended by this execution`,
    );
  }
  if (!(await getChannel(channelId))) {
    logger.warn("Persistent channel record is gone; nothing to release", { channelId });
    return { released: false, statsRecorded: false };
  }
  const plan = { sessionId, channelId, executionArn, seconds: session.end.streamedSeconds ?? 0 };
  const counted = session.end.statsRecorded ? undefined : await recordStats(plan, mediaLiveStopped);
  const outcome = counted ?? {
    released: mediaLiveStopped && (await releaseChannel(channelId, sessionId)) !== undefined,
    statsRecorded: false,
  };
  if (!mediaLiveStopped) {
    throw new TaskError(
      TaskErrors.ChannelStillInUse,
      `Channel ${channelId} stays claimed: the session's MediaLive channel may still push to it; end the session again once MediaLive is cleaned up`,
    );
  }
  return outcome;
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "release-persistent-channel",
  entry: import.meta.url,
  input: ReleasePersistentChannelInput,
  table: "write",
  run: releasePersistentChannel,
});

export const handler = task.handler;
