import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { claimSession, handler } from "#tasks/sessions/claim-session.ts";
import {
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  lambdaContext,
  makeSession,
  PROGRAM_CHANNEL_ARN,
  TABLE,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

const executionArn = executionArnOf(GO_LIVE_SM, "go-live-s1-2");
const previousArn = executionArnOf(GO_LIVE_SM, "go-live-s1-1");
const input = { sessionId: "s1", executionArn, attempt: 2 };
const claimed = makeSession({
  mediaLive: { channelId: "5550001", inputIds: { host: "7654321" } },
  streaming: { status: "starting", executionArn, attempt: 2 },
});

describe("claim-session", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    useTestEnv();
    ddb.on(UpdateCommand).resolves({ Attributes: item(claimed) });
  });

  it("claims an idle session with a conditional update to starting", async () => {
    // Prepare
    ddb.on(GetCommand).resolves({
      Item: item(makeSession({ mediaLive: { channelId: "5550001", inputIds: { host: "7654321" } } })),
    });

    // Act
    const out = await claimSession(input);

    // Assess
    const get = ddb.commandCalls(GetCommand)[0]?.args[0].input;
    expect(get).toMatchObject({
      TableName: TABLE,
      Key: { pk: "SESSION#s1", sk: "SESSION" },
      ConsistentRead: true,
    });
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.set).toMatchObject({
      "streaming.status": "starting",
      "streaming.isLive": false,
      "streaming.executionArn": executionArn,
      "streaming.attempt": 2,
    });
    expect(updates[0]?.remove).toContain("streaming.error");
    expect(updates[0]?.condition).toContain('streaming.status IN ("idle", "error")');
    expect(sfn.calls()).toHaveLength(0);
    expect(out).toEqual({
      sessionId: "s1",
      programChannelArn: PROGRAM_CHANNEL_ARN,
      channelId: "5550001",
      inputId: "7654321",
    });
  });

  it("fails with SessionBusy when another RUNNING execution is starting the session", async () => {
    ddb.on(GetCommand).resolves({
      Item: item(makeSession({ streaming: { status: "starting", executionArn: previousArn, attempt: 1 } })),
    });
    sfn.on(DescribeExecutionCommand, { executionArn: previousArn }).resolves({ status: "RUNNING" });

    await expect(claimSession(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it.each(["FAILED", "ABORTED"] as const)(
    "takes over a session left starting by a %s execution, conditioned on that execution",
    async (status) => {
      ddb.on(GetCommand).resolves({
        Item: item(makeSession({ streaming: { status: "starting", executionArn: previousArn, attempt: 1 } })),
      });
      sfn.on(DescribeExecutionCommand, { executionArn: previousArn }).resolves({ status });

      const out = await claimSession(input);

      const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      expect(update?.set).toMatchObject({
        "streaming.status": "starting",
        "streaming.executionArn": executionArn,
      });
      expect(update?.condition).toContain('streaming.status = "starting"');
      expect(update?.condition).toContain(`streaming.executionArn = ${JSON.stringify(previousArn)}`);
      expect(out.sessionId).toBe("s1");
    },
  );

  it("fails with SessionBusy when a takeover loses the race (condition fails)", async () => {
    ddb.on(GetCommand).resolves({
      Item: item(makeSession({ streaming: { status: "starting", executionArn: previousArn, attempt: 1 } })),
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: "TIMED_OUT" });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));

    await expect(claimSession(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
  });

  it("is a no-op for the execution that already owns the session", async () => {
    ddb.on(GetCommand).resolves({ Item: item(claimed) });

    const out = await claimSession(input);

    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
    expect(out.channelId).toBe("5550001");
  });

  it("fails with SessionBusy when the session is live", async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: item(makeSession({ streaming: { status: "live", isLive: true, attempt: 1 } })) });

    await expect(claimSession(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("fails with SessionNotFound when there is no session", async () => {
    ddb.on(GetCommand).resolves({});

    await expect(claimSession(input)).rejects.toMatchObject({ name: TaskErrors.SessionNotFound });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ ...input, attempt: 0 }, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("attempt");
    expect(ddb.calls()).toHaveLength(0);
  });
});
