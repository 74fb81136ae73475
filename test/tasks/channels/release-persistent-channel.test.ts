import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { channelKey, type PersistentChannel } from "#lib/channels/model.ts";
import { TaskErrors } from "#lib/errors.ts";
import type { Session } from "#lib/sessions/model.ts";
import { handler, releasePersistentChannel } from "#tasks/channels/release-persistent-channel.ts";
import {
  decodeUpdates,
  executionArnOf,
  item,
  lambdaContext,
  makeSession,
  TABLE,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);

const END_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-end-session";
const executionArn = executionArnOf(END_SM, "end-session-s1-1");
const input = { sessionId: "s1", executionArn, mediaLiveStopped: true };
const CHANNEL_ID = "pers1";

const channel: PersistentChannel = {
  channelId: CHANNEL_ID,
  channelArn: `arn:aws:ivs:us-east-1:000000000000:channel/${CHANNEL_ID}`,
  name: "host-a",
  hostUserId: "user-host",
  state: "LIVE",
  currentSessionId: "s1",
  playbackUrl: "https://pers1.playback.live-video.net/pers1.m3u8",
  ingestEndpoint: "pers1.global-contribute.live-video.net",
  totalBroadcasts: 3,
  totalStreamingMinutes: 12.5,
  createdAt: "2025-01-01T00:00:00.000Z",
  updatedAt: "2025-01-01T00:00:00.000Z",
  version: 1,
};

function endingSession(end: Session["end"] = { executionArn, streamedSeconds: 1234 }): Session {
  const base = makeSession();
  return {
    ...base,
    status: "ending",
    ivs: {
      persistentChannelId: CHANNEL_ID,
      persistentChannelArn: channel.channelArn,
      persistentPlaybackUrl: channel.playbackUrl,
      persistentIngestEndpoint: channel.ingestEndpoint,
    },
    end,
  };
}

function given(session: Session, stored: PersistentChannel | null = channel): void {
  ddb.on(GetCommand, { Key: { pk: "SESSION#s1", sk: "SESSION" } }).resolves({ Item: item(session) });
  ddb
    .on(GetCommand, { Key: channelKey(CHANNEL_ID) })
    .resolves(stored ? { Item: { ...channelKey(CHANNEL_ID), ...stored } } : {});
}

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: "Transaction cancelled",
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];
const transactions = () =>
  ddb.commandCalls(TransactWriteCommand).map((c) => (c.args[0].input.TransactItems ?? []) as TransactItem[]);
const released = { ...channel, state: "IDLE" as const, currentSessionId: undefined };

describe("release-persistent-channel", () => {
  beforeEach(() => {
    ddb.reset();
    useTestEnv();
  });

  it("releases the channel and records the session's statistics in one transaction", async () => {
    // Prepare
    given(endingSession());
    ddb.on(TransactWriteCommand).resolves({});

    // Act
    const out = await releasePersistentChannel(input);

    // Assess
    expect(out).toEqual({ released: true, statsRecorded: true });
    const all = transactions();
    expect(all).toHaveLength(1);
    const [markSession, stats] = all[0] ?? [];
    expect(all[0]).toHaveLength(2);

    expect(markSession?.Update?.TableName).toBe(TABLE);
    expect(markSession?.Update?.Key).toEqual({ pk: "SESSION#s1", sk: "SESSION" });
    expect(markSession?.Update?.UpdateExpression).toContain("SET #end.#statsRecorded = :true");
    expect(markSession?.Update?.ConditionExpression).toContain("attribute_not_exists(#end.#statsRecorded)");
    expect(markSession?.Update?.ConditionExpression).toContain("#end.#executionArn = :exec");
    expect(markSession?.Update?.ExpressionAttributeValues).toMatchObject({
      ":true": true,
      ":exec": executionArn,
    });

    expect(stats?.Update?.Key).toEqual(channelKey(CHANNEL_ID));
    expect(stats?.Update?.UpdateExpression).toContain("totalBroadcasts = totalBroadcasts + :b");
    expect(stats?.Update?.UpdateExpression).toContain("totalStreamingMinutes = totalStreamingMinutes + :m");
    expect(stats?.Update?.UpdateExpression).toContain("lastBroadcastAt = :now");
    expect(stats?.Update?.UpdateExpression).toContain("#state = :idle");
    expect(stats?.Update?.UpdateExpression).toContain("REMOVE currentSessionId");
    expect(stats?.Update?.ConditionExpression).toBe("#state = :live AND currentSessionId = :session");
    expect(stats?.Update?.ExpressionAttributeNames).toEqual({ "#state": "state", "#version": "version" });
    // 1234 s = 20.5666... min, stored with two decimals
    expect(stats?.Update?.ExpressionAttributeValues).toMatchObject({
      ":b": 1,
      ":m": 20.57,
      ":idle": "IDLE",
      ":live": "LIVE",
      ":session": "s1",
    });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("adds no broadcast (and no lastBroadcastAt) when nothing was streamed", async () => {
    given(endingSession({ executionArn, streamedSeconds: 0 }));
    ddb.on(TransactWriteCommand).resolves({});

    const out = await releasePersistentChannel(input);

    expect(out).toEqual({ released: true, statsRecorded: true });
    const stats = transactions()[0]?.[1];
    expect(stats?.Update?.ExpressionAttributeValues).toMatchObject({ ":b": 0, ":m": 0 });
    expect(stats?.Update?.UpdateExpression).not.toContain("lastBroadcastAt");
  });

  it("only releases, with a plain conditional update, when the statistics were already counted", async () => {
    // Prepare: the session condition fails (a lost answer of an earlier, successful call)
    given(endingSession());
    ddb.on(TransactWriteCommand).rejects(cancelled("ConditionalCheckFailed", "None"));
    ddb.on(UpdateCommand).resolves({ Attributes: { ...channelKey(CHANNEL_ID), ...released } });

    // Act
    const out = await releasePersistentChannel(input);

    // Assess
    expect(out).toEqual({ released: true, statsRecorded: false });
    expect(transactions()).toHaveLength(1);
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.set).toMatchObject({ state: "IDLE" });
    expect(updates[0]?.set).not.toHaveProperty("totalBroadcasts");
    expect(updates[0]?.remove).toEqual(["currentSessionId"]);
    expect(updates[0]?.condition).toContain('currentSessionId = "s1"');
    expect(updates[0]?.condition).toContain('state = "LIVE"');
  });

  it("still records the statistics, without a state change, when an admin already released the channel", async () => {
    // Prepare
    given(endingSession(), released);
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled("None", "ConditionalCheckFailed")).resolves({});

    // Act
    const out = await releasePersistentChannel(input);

    // Assess
    expect(out).toEqual({ released: false, statsRecorded: true });
    const all = transactions();
    expect(all).toHaveLength(2);
    const [markSession, stats] = all[1] ?? [];
    expect(markSession?.Update?.Key).toEqual({ pk: "SESSION#s1", sk: "SESSION" });
    expect(stats?.Update?.ConditionExpression).toBe("attribute_exists(pk)");
    expect(stats?.Update?.UpdateExpression).not.toContain("#state");
    expect(stats?.Update?.UpdateExpression).not.toContain("REMOVE");
    expect(stats?.Update?.ExpressionAttributeValues).toMatchObject({ ":b": 1, ":m": 20.57 });
    expect(stats?.Update?.ExpressionAttributeValues).not.toHaveProperty(":idle");
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("runs no transaction when the session already carries end.statsRecorded", async () => {
    given(endingSession({ executionArn, streamedSeconds: 1234, statsRecorded: true }));
    ddb.on(UpdateCommand).resolves({ Attributes: { ...channelKey(CHANNEL_ID), ...released } });

    const out = await releasePersistentChannel(input);

    expect(out).toEqual({ released: true, statsRecorded: false });
    expect(transactions()).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it("answers released: false when the channel is no longer held by the session (stats counted)", async () => {
    given(endingSession({ executionArn, streamedSeconds: 1234, statsRecorded: true }), released);
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));

    const out = await releasePersistentChannel(input);

    expect(out).toEqual({ released: false, statsRecorded: false });
    expect(transactions()).toHaveLength(0);
  });

  it("fails with SessionClaimLost when the session is not being ended by this execution", async () => {
    const other = executionArnOf(END_SM, "end-session-s1-2");
    given(endingSession({ executionArn: other, streamedSeconds: 10 }));

    await expect(releasePersistentChannel(input)).rejects.toMatchObject({
      name: TaskErrors.SessionClaimLost,
    });
    expect(transactions()).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("fails with SessionClaimLost when the session is already ended", async () => {
    given({ ...endingSession(), status: "ended" });

    await expect(releasePersistentChannel(input)).rejects.toMatchObject({
      name: TaskErrors.SessionClaimLost,
    });
    expect(transactions()).toHaveLength(0);
  });

  it("does nothing for a session without a persistent channel", async () => {
    ddb.on(GetCommand).resolves({ Item: item(makeSession()) });

    const out = await releasePersistentChannel(input);

    expect(out).toEqual({ released: false, statsRecorded: false });
    // Only the session read: no channel read, no write
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual({ pk: "SESSION#s1", sk: "SESSION" });
  });

  it("answers released: false, statsRecorded: false when the channel record is missing", async () => {
    given(endingSession(), null);

    const out = await releasePersistentChannel(input);

    expect(out).toEqual({ released: false, statsRecorded: false });
    expect(transactions()).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("fails with SessionNotFound when there is no session", async () => {
    ddb.on(GetCommand).resolves({});

    await expect(releasePersistentChannel(input)).rejects.toMatchObject({ name: TaskErrors.SessionNotFound });
  });

  it("names a transaction lost to a concurrent write TransactionConflict, which the state retries", async () => {
    given(endingSession());
    ddb.on(TransactWriteCommand).rejects(cancelled("None", "TransactionConflict"));

    await expect(releasePersistentChannel(input)).rejects.toMatchObject({
      name: TaskErrors.TransactionConflict,
    });
    expect(transactions()).toHaveLength(1);
  });

  it("records the statistics but keeps the channel claimed while MediaLive may still push to it", async () => {
    given(endingSession({ executionArn, streamedSeconds: 60 }));
    ddb.on(TransactWriteCommand).resolves({});

    await expect(releasePersistentChannel({ ...input, mediaLiveStopped: false })).rejects.toMatchObject({
      name: TaskErrors.ChannelStillInUse,
    });
    const [tx] = transactions();
    const channelUpdate = JSON.stringify(tx?.[1]);
    expect(channelUpdate).toContain("totalBroadcasts + :b");
    expect(channelUpdate).not.toContain(":idle");
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ sessionId: "s1", executionArn: "" }, lambdaContext).catch(
      (e: unknown) => e,
    );

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("executionArn");
    expect(ddb.calls()).toHaveLength(0);
  });
});
