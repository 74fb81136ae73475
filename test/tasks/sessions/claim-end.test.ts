import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { ListChannelsCommand, ListInputsCommand, MediaLiveClient } from "@aws-sdk/client-medialive";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { type CleanupResult, type Session, Tags } from "#lib/sessions/model.ts";
import { claimEnd, handler, streamedSeconds } from "#tasks/sessions/claim-end.ts";
import {
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  lambdaContext,
  makeSession,
  PROGRAM_CHANNEL_ARN,
  STOP_SM,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const ml = mockClient(MediaLiveClient);
const sfn = mockClient(SFNClient);

const END_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-end-session";
const executionArn = executionArnOf(END_SM, "end-session-s1-2");
const previousEndArn = executionArnOf(END_SM, "end-session-s1-1");
const goLiveArn = executionArnOf(GO_LIVE_SM, "go-live-s1-1");
const stopArn = executionArnOf(STOP_SM, "stop-streaming-s1-1");
const input = { sessionId: "s1", executionArn };
const mediaLive = { channelId: "5550001", inputIds: { host: "7654321" } };
const STARTED_AT = "2025-01-01T00:00:00.000Z";
/** Long enough ago for any take-over grace period. */
const CLOSED_AT = new Date("2025-01-01T00:00:00.000Z");
const RELAY_ARN = "arn:aws:ivs:us-east-1:000000000000:channel/relay1";

const ok: CleanupResult = { attempted: true, success: true, error: null };
const failed: CleanupResult = {
  attempted: true,
  success: false,
  error: { code: "IvsChannelBusy", message: "still live" },
};

/** A session on a host's persistent channel, with a relay channel. */
function persistentSession(overrides: Partial<Session> = {}): Session {
  const base = makeSession({ mediaLive });
  return {
    ...base,
    ivs: {
      persistentChannelId: "pers1",
      persistentChannelArn: "arn:aws:ivs:us-east-1:000000000000:channel/pers1",
      persistentPlaybackUrl: "https://pers1.playback.live-video.net/pers1.m3u8",
      persistentIngestEndpoint: "pers1.global-contribute.live-video.net",
      relayChannelArn: RELAY_ARN,
      relayPlaybackUrl: "https://relay1.playback.live-video.net/relay1.m3u8",
      relayIngestEndpoint: "relay1.global-contribute.live-video.net",
    },
    ...overrides,
  };
}

/** The stored session, and the same document as the claim returns it. */
function given(session: Session): void {
  ddb.on(GetCommand).resolves({ Item: item(session) });
  ddb.on(UpdateCommand).resolves({
    Attributes: item({
      ...session,
      status: "ending",
      end: { ...session.end, executionArn, streamedSeconds: session.end?.streamedSeconds ?? 0 },
    }),
  });
}

describe("claim-end", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    ml.reset();
    useTestEnv();
  });

  it("adds MediaLive resources tagged with the session that its record does not name", async () => {
    // A go-live died after creating them and before saving them on the session.
    const session = persistentSession({ mediaLive: { inputIds: {}, rtmpEndpoints: {} } });
    given(session);
    ml.on(ListChannelsCommand).resolves({
      Channels: [
        { Id: "other", State: "IDLE", Tags: { [Tags.sessionId]: "s2" } },
        { Id: "5550009", State: "IDLE", Tags: { [Tags.sessionId]: "s1" } },
      ],
    });
    ml.on(ListInputsCommand).resolves({
      Inputs: [{ Id: "7650009", State: "DETACHED", Tags: { [Tags.sessionId]: "s1" } }],
    });

    const out = await claimEnd(input);

    expect(out).toMatchObject({ channelId: "5550009", inputId: "7650009" });
  });

  it("claims an active idle session: ending, with the execution and the streamed seconds frozen", async () => {
    // Prepare
    const session = persistentSession({
      streaming: { ...makeSession().streaming, totalStreamedSeconds: 300 },
    });
    given(session);

    // Act
    const out = await claimEnd(input);

    // Assess
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.set).toMatchObject({
      status: "ending",
      end: { executionArn, streamedSeconds: 300 },
    });
    // The optimistic lock is the version it read, not a timestamp.
    expect(updates[0]?.condition).toContain(`version = ${session.version}`);
    expect(sfn.calls()).toHaveLength(0);
    expect(out).toEqual({
      alreadyEnded: false,
      channelId: "5550001",
      inputId: "7654321",
      relayChannelArn: RELAY_ARN,
      persistentChannelId: "pers1",
      programChannelArn: null,
    });
  });

  it("freezes the total plus the live broadcast's segment since startedAt", async () => {
    // Prepare
    given(
      persistentSession({
        streaming: {
          status: "live",
          isLive: true,
          attempt: 1,
          executionArn: goLiveArn,
          startedAt: STARTED_AT,
          totalStreamedSeconds: 120,
        },
      }),
    );
    const before = 120 + (Date.now() - Date.parse(STARTED_AT)) / 1000;

    // Act
    await claimEnd(input);

    // Assess
    const after = 120 + (Date.now() - Date.parse(STARTED_AT)) / 1000;
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    const end = update?.set.end as { streamedSeconds: number; executionArn: string };
    expect(end.executionArn).toBe(executionArn);
    expect(end.streamedSeconds).toBeGreaterThanOrEqual(before - 0.01);
    expect(end.streamedSeconds).toBeLessThanOrEqual(after + 0.01);
  });

  it("keeps a streamedSeconds frozen by an earlier end instead of recomputing it", async () => {
    given(
      persistentSession({
        status: "ended",
        streaming: { ...makeSession().streaming, totalStreamedSeconds: 9999 },
        end: {
          executionArn: previousEndArn,
          streamedSeconds: 42,
          statsRecorded: true,
          cleanupResults: { mediaLive: ok, relayChannel: failed, persistentChannel: ok },
        },
      }),
    );

    await claimEnd(input);

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set.end).toMatchObject({ executionArn, streamedSeconds: 42, statsRecorded: true });
  });

  it("answers alreadyEnded without writing for an ended session whose clean-up all succeeded", async () => {
    given(
      persistentSession({
        status: "ended",
        end: {
          executionArn: previousEndArn,
          streamedSeconds: 10,
          cleanupResults: { mediaLive: ok, relayChannel: ok, persistentChannel: ok },
        },
      }),
    );

    const out = await claimEnd(input);

    expect(out.alreadyEnded).toBe(true);
    expect(out.persistentChannelId).toBe("pers1");
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("claims again an ended session with a failed part, so its clean-up is retried", async () => {
    given(
      persistentSession({
        status: "ended",
        end: {
          executionArn: previousEndArn,
          streamedSeconds: 10,
          cleanupResults: { mediaLive: ok, relayChannel: failed, persistentChannel: ok },
        },
      }),
    );

    const out = await claimEnd(input);

    expect(out.alreadyEnded).toBe(false);
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.set).toMatchObject({ status: "ending", end: { executionArn } });
  });

  it("is a no-op for the execution that is already ending the session", async () => {
    given(persistentSession({ status: "ending", end: { executionArn, streamedSeconds: 5 } }));

    const out = await claimEnd(input);

    expect(out.alreadyEnded).toBe(false);
    expect(out.relayChannelArn).toBe(RELAY_ARN);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("fails with SessionBusy while a RUNNING go-live is starting the session", async () => {
    given(
      persistentSession({
        streaming: { ...makeSession().streaming, status: "starting", executionArn: goLiveArn, attempt: 1 },
      }),
    );
    sfn.on(DescribeExecutionCommand, { executionArn: goLiveArn }).resolves({ status: "RUNNING" });

    await expect(claimEnd(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("fails with SessionBusy while a RUNNING stop is stopping the session", async () => {
    given(
      persistentSession({
        streaming: {
          ...makeSession().streaming,
          status: "stopping",
          isLive: true,
          stopExecutionArn: stopArn,
          attempt: 1,
        },
      }),
    );
    sfn.on(DescribeExecutionCommand, { executionArn: stopArn }).resolves({ status: "RUNNING" });

    await expect(claimEnd(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("claims a session left starting by a closed go-live execution", async () => {
    given(
      persistentSession({
        streaming: { ...makeSession().streaming, status: "starting", executionArn: goLiveArn, attempt: 1 },
      }),
    );
    sfn
      .on(DescribeExecutionCommand, { executionArn: goLiveArn })
      .resolves({ status: "FAILED", stopDate: CLOSED_AT });

    const out = await claimEnd(input);

    expect(out.alreadyEnded).toBe(false);
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.set).toMatchObject({ status: "ending", end: { executionArn } });
  });

  it("fails with SessionBusy while another RUNNING end execution owns the session", async () => {
    given(persistentSession({ status: "ending", end: { executionArn: previousEndArn, streamedSeconds: 5 } }));
    sfn.on(DescribeExecutionCommand, { executionArn: previousEndArn }).resolves({ status: "RUNNING" });

    await expect(claimEnd(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("takes over an ending session whose end execution has closed", async () => {
    given(persistentSession({ status: "ending", end: { executionArn: previousEndArn, streamedSeconds: 5 } }));
    sfn
      .on(DescribeExecutionCommand, { executionArn: previousEndArn })
      .resolves({ status: "TIMED_OUT", stopDate: CLOSED_AT });

    await claimEnd(input);

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({ status: "ending", end: { executionArn, streamedSeconds: 5 } });
  });

  it("reads again at once when the session changed since it was read, and claims it", async () => {
    given(persistentSession());
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }))
      .resolves({ Attributes: item({ ...persistentSession(), status: "ending", end: { executionArn } }) });

    await expect(claimEnd(input)).resolves.toMatchObject({ alreadyEnded: false });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  it("fails with SessionBusy (retried by the state) when the session keeps changing", async () => {
    given(persistentSession());
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));

    await expect(claimEnd(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(5);
  });

  it("returns a legacy session's own program channel", async () => {
    given(makeSession({ mediaLive }));

    const out = await claimEnd(input);

    expect(out).toEqual({
      alreadyEnded: false,
      channelId: "5550001",
      inputId: "7654321",
      relayChannelArn: null,
      persistentChannelId: null,
      programChannelArn: PROGRAM_CHANNEL_ARN,
    });
  });

  it("fails with SessionNotFound when there is no session", async () => {
    ddb.on(GetCommand).resolves({});

    await expect(claimEnd(input)).rejects.toMatchObject({ name: TaskErrors.SessionNotFound });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ sessionId: "s1" }, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("executionArn");
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe("streamedSeconds()", () => {
  const now = new Date("2025-01-01T01:00:00.000Z");
  const streaming = makeSession().streaming;

  it("adds the live segment since startedAt to the total", () => {
    const s = makeSession({
      streaming: { ...streaming, status: "live", startedAt: STARTED_AT, totalStreamedSeconds: 60 },
    });

    expect(streamedSeconds(s, now)).toBe(3660);
  });

  it("counts a live segment started after the previous stop", () => {
    const s = makeSession({
      streaming: {
        ...streaming,
        status: "live",
        startedAt: "2025-01-01T00:30:00.000Z",
        stoppedAt: "2025-01-01T00:20:00.000Z",
        totalStreamedSeconds: 100,
      },
    });

    expect(streamedSeconds(s, now)).toBe(1900);
  });

  it("is only the total when the session is not live", () => {
    const s = makeSession({
      streaming: {
        ...streaming,
        status: "idle",
        startedAt: STARTED_AT,
        stoppedAt: "2025-01-01T00:10:00.000Z",
        totalStreamedSeconds: 600,
      },
    });

    expect(streamedSeconds(s, now)).toBe(600);
  });

  it("never counts a negative segment (startedAt in the future)", () => {
    const s = makeSession({
      streaming: {
        ...streaming,
        status: "live",
        startedAt: "2025-01-01T02:00:00.000Z",
        totalStreamedSeconds: 7,
      },
    });

    expect(streamedSeconds(s, now)).toBe(7);
  });
});
