import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { claimStop, handler } from "#tasks/sessions/claim-stop.ts";
import {
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  lambdaContext,
  makeSession,
  STOP_SM,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

const executionArn = executionArnOf(STOP_SM, "stop-streaming-s1-1");
const goLiveArn = executionArnOf(GO_LIVE_SM, "go-live-s1-1");
const input = { sessionId: "s1", executionArn };
const mediaLive = { channelId: "5550001", inputIds: { host: "7654321" } };

describe("claim-stop", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    useTestEnv();
  });

  it("moves a live session to stopping", async () => {
    // Prepare
    ddb.on(GetCommand).resolves({
      Item: item(
        makeSession({
          mediaLive,
          streaming: { status: "live", isLive: true, executionArn: goLiveArn, attempt: 1 },
        }),
      ),
    });
    ddb.on(UpdateCommand).resolves({
      Attributes: item(
        makeSession({
          mediaLive,
          streaming: { status: "stopping", isLive: true, stopExecutionArn: executionArn, attempt: 1 },
        }),
      ),
    });

    // Act
    const out = await claimStop(input);

    // Assess
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.set).toMatchObject({
      "streaming.status": "stopping",
      "streaming.stopExecutionArn": executionArn,
    });
    expect(updates[0]?.condition).toContain('streaming.status = "live"');
    expect(out).toEqual({ alreadyStopped: false, channelId: "5550001" });
  });

  it("reports an idle session as already stopped and writes nothing", async () => {
    ddb.on(GetCommand).resolves({ Item: item(makeSession({ mediaLive })) });

    const out = await claimStop(input);

    expect(out).toEqual({ alreadyStopped: true, channelId: "5550001" });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("fails with SessionBusy while a go-live is starting the session", async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
    ddb.on(GetCommand).resolves({
      Item: item(
        makeSession({ mediaLive, streaming: { status: "starting", executionArn: goLiveArn, attempt: 1 } }),
      ),
    });

    await expect(claimStop(input)).rejects.toMatchObject({ name: TaskErrors.SessionBusy });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("takes over a stop left by a closed stop execution, conditioned on that execution", async () => {
    const previousStop = executionArnOf(STOP_SM, "stop-streaming-s1-0");
    ddb.on(GetCommand).resolves({
      Item: item(
        makeSession({
          mediaLive,
          streaming: { status: "stopping", stopExecutionArn: previousStop, attempt: 1 },
        }),
      ),
    });
    sfn.on(DescribeExecutionCommand, { executionArn: previousStop }).resolves({ status: "FAILED" });
    ddb.on(UpdateCommand).resolves({
      Attributes: item(
        makeSession({
          mediaLive,
          streaming: { status: "stopping", stopExecutionArn: executionArn, attempt: 1 },
        }),
      ),
    });

    await claimStop(input);

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({ "streaming.stopExecutionArn": executionArn });
    expect(update?.condition).toContain(`streaming.stopExecutionArn = ${JSON.stringify(previousStop)}`);
  });

  it("fails with SessionNotFound when there is no session", async () => {
    ddb.on(GetCommand).resolves({});

    await expect(claimStop(input)).rejects.toMatchObject({ name: TaskErrors.SessionNotFound });
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ sessionId: "s1" }, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("executionArn");
    expect(ddb.calls()).toHaveLength(0);
  });
});
