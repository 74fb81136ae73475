import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { channelKey, toMinutes } from "../lib/channel.ts";
import { getChannel, releaseChannel } from "../lib/channel-store.ts";
import { dynamo } from "../lib/clients.ts";
import { config } from "../lib/config.ts";
import { sessionNotFound, TaskError, TaskErrors } from "../lib/errors.ts";
import { logger } from "../lib/logger.ts";
import { nowIso, sessionKey } from "../lib/session.ts";
import { getSession } from "../lib/session-store.ts";
import { taskHandler } from "../lib/task.ts";

export const ReleasePersistentChannelInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
});
export type ReleasePersistentChannelInput = z.infer<typeof ReleasePersistentChannelInput>;

export interface ReleasePersistentChannelOutput {
  /** True when this call moved the channel back to IDLE (false: it was not held by the session any more). */
  readonly released: boolean;
  /** True when this call added the session to the channel's statistics (false: already counted). */
  readonly statsRecorded: boolean;
}

/** Which conditions of a cancelled transaction failed, by item index. */
const failedConditions = (err: TransactionCanceledException) =>
  (err.CancellationReasons ?? []).map((r) => r.Code === "ConditionalCheckFailed");

/**
 * Hands the persistent channel back (LIVE -> IDLE, `currentSessionId` cleared; never deleted)
 * and adds the session to its statistics: `totalBroadcasts` +1 when anything was streamed,
 * `totalStreamingMinutes` += the minutes frozen when the end began, `lastBroadcastAt`.
 *
 * Exactly once: the statistics are written in one transaction with a `statsRecorded` flag on the
 * session, conditioned on the flag being absent. A retry, or end-session run again, finds the flag
 * and only makes sure the channel is released. A channel an admin already released (recovery of a
 * stuck LIVE channel) still gets the statistics.
 */
export async function releasePersistentChannel(
  input: ReleasePersistentChannelInput,
): Promise<ReleasePersistentChannelOutput> {
  const { sessionId, executionArn } = input;
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
  const channel = await getChannel(channelId);
  if (!channel) {
    logger.warn("Persistent channel record is gone; nothing to release", { channelId });
    return { released: false, statsRecorded: false };
  }
  if (session.end.statsRecorded) {
    return { released: (await releaseChannel(channelId, sessionId)) !== undefined, statsRecorded: false };
  }

  const seconds = session.end.streamedSeconds ?? 0;
  const broadcast = seconds > 0;
  const now = nowIso();
  const statsUpdate = (release: boolean) => ({
    Update: {
      TableName: config().TABLE_NAME,
      Key: channelKey(channelId),
      UpdateExpression: [
        "SET totalBroadcasts = totalBroadcasts + :b, totalStreamingMinutes = totalStreamingMinutes + :m, updatedAt = :now",
        broadcast ? ", lastBroadcastAt = :now" : "",
        release ? ", #state = :idle REMOVE currentSessionId" : "",
      ].join(""),
      ConditionExpression: release
        ? "#state = :live AND currentSessionId = :session"
        : "attribute_exists(pk)",
      ExpressionAttributeNames: release ? { "#state": "state" } : undefined,
      ExpressionAttributeValues: {
        ":b": broadcast ? 1 : 0,
        ":m": toMinutes(seconds),
        ":now": now,
        ...(release ? { ":idle": "IDLE", ":live": "LIVE", ":session": sessionId } : {}),
      },
    },
  });
  const markSession = {
    Update: {
      TableName: config().TABLE_NAME,
      Key: sessionKey(sessionId),
      UpdateExpression: "SET #end.#statsRecorded = :true",
      ConditionExpression: "attribute_not_exists(#end.#statsRecorded) AND #end.#executionArn = :exec",
      ExpressionAttributeNames: {
        "#end": "end",
        "#statsRecorded": "statsRecorded",
        "#executionArn": "executionArn",
      },
      ExpressionAttributeValues: { ":true": true, ":exec": executionArn },
    },
  };

  for (const release of [true, false]) {
    try {
      await dynamo().send(new TransactWriteCommand({ TransactItems: [markSession, statsUpdate(release)] }));
      return { released: release, statsRecorded: true };
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const [sessionFailed, channelFailed] = failedConditions(err);
      if (sessionFailed) {
        // Counted already (a lost answer of this very call): only make sure it is released.
        return { released: (await releaseChannel(channelId, sessionId)) !== undefined, statsRecorded: false };
      }
      if (!channelFailed) throw err;
      // Not held by this session any more: count the statistics without touching its state.
    }
  }
  throw new Error(`Could not record statistics for channel ${channelId}`);
}

export const handler = taskHandler(
  "release-persistent-channel",
  ReleasePersistentChannelInput,
  releasePersistentChannel,
);
