import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DescribeChannelCommand,
  DescribeInputCommand,
  MediaLiveClient,
  NotFoundException,
} from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { handler, recordFailure } from "#tasks/sessions/record-failure.ts";
import {
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  lambdaContext,
  makeSession,
  STOP_SM,
  taskContext,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ddb = mockClient(DynamoDBDocumentClient);

const executionArn = executionArnOf(GO_LIVE_SM, "go-live-s1-1");
const lambdaCause = JSON.stringify({
  errorType: "ChannelFailed",
  errorMessage: "Channel 5550001 is CREATE_FAILED",
  trace: ["ChannelFailed: Channel 5550001 is CREATE_FAILED", "    at startChannel (/var/task/index.mjs:1:1)"],
});
const goLiveFailure = {
  sessionId: "s1",
  executionArn,
  lifecycle: "go-live" as const,
  error: { Error: "ChannelFailed", Cause: lambdaCause },
};
const stored = makeSession({
  mediaLive: {
    channelId: "5550001",
    channelArn: "arn:aws:medialive:us-east-1:000000000000:channel:5550001",
    inputIds: { host: "7654321" },
    rtmpEndpoints: { host: [{ url: "rtmp://203.0.113.10:1935/castflow", streamName: "s1" }] },
  },
  streaming: { status: "starting", executionArn, attempt: 1, startedAt: "2025-01-01T00:00:00.000Z" },
});

describe("record-failure", () => {
  beforeEach(() => {
    ml.reset();
    ddb.reset();
    useTestEnv();
    ddb.on(GetCommand).resolves({ Item: item(stored) });
    ddb.on(UpdateCommand).resolves({
      Attributes: item(makeSession({ streaming: { status: "error", attempt: 1, executionArn } })),
    });
  });

  it("sets the session to error with the code and the plain message of a Lambda error", async () => {
    // Prepare
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "ATTACHED" });

    // Act
    const out = await recordFailure(goLiveFailure, taskContext());

    // Assess
    expect(out).toEqual({ recorded: true });
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set["streaming.status"]).toBe("error");
    expect(update?.set["streaming.isLive"]).toBe(false);
    const error = update?.set["streaming.error"] as { code: string; message: string };
    expect(error.code).toBe("ChannelFailed");
    expect(error.message).toContain("Channel 5550001 is CREATE_FAILED");
    expect(error.message).not.toContain("errorType");
    expect(error.message).not.toContain("/var/task");
    // resources that still exist stay on the record
    expect(update?.remove).not.toContain("mediaLive.channelId");
    expect(update?.remove).not.toContain("mediaLive.inputIds.host");
  });

  it("is conditioned on the owning go-live execution", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "DETACHED" });

    await recordFailure(goLiveFailure, taskContext());

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.condition).toContain('streaming.status = "starting"');
    expect(update?.condition).toContain(`streaming.executionArn = ${JSON.stringify(executionArn)}`);
  });

  it("is conditioned on the owning stop execution for stop-streaming", async () => {
    const stopArn = executionArnOf(STOP_SM, "stop-streaming-s1-1");
    ml.on(DescribeChannelCommand).resolves({ State: "RUNNING" });
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "ATTACHED" });

    await recordFailure(
      {
        ...goLiveFailure,
        executionArn: stopArn,
        lifecycle: "stop-streaming",
        error: { Error: "States.Timeout" },
      },
      taskContext(),
    );

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.condition).toContain('streaming.status = "stopping"');
    expect(update?.condition).toContain(`streaming.stopExecutionArn = ${JSON.stringify(stopArn)}`);
  });

  it("removes the ids of a channel and input that no longer exist", async () => {
    ml.on(DescribeChannelCommand).rejects(new NotFoundException({ message: "gone", $metadata: {} }));
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "DELETING" });

    await recordFailure(goLiveFailure, taskContext());

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.remove).toEqual(
      expect.arrayContaining([
        "mediaLive.channelId",
        "mediaLive.channelArn",
        "mediaLive.inputIds.host",
        "mediaLive.rtmpEndpoints.host",
      ]),
    );
  });

  it("adds the cleanup error to the message", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "DETACHED" });

    await recordFailure(
      {
        ...goLiveFailure,
        cleanupError: {
          Error: "ChannelNotReady",
          Cause: JSON.stringify({
            errorType: "ChannelNotReady",
            errorMessage: "Channel 5550001 is STOPPING",
          }),
        },
      },
      taskContext(),
    );

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    const error = update?.set["streaming.error"] as { code: string; message: string };
    expect(error.code).toBe("ChannelFailed");
    expect(error.message).toContain("Channel 5550001 is STOPPING");
    expect(error.message).not.toContain("errorType");
  });

  it("reports recorded: false when another execution owns the session", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "DETACHED" });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));

    await expect(recordFailure(goLiveFailure, taskContext())).resolves.toEqual({ recorded: false });
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ ...goLiveFailure, lifecycle: "go-dead" }, lambdaContext).catch(
      (e: unknown) => e,
    );

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("lifecycle");
    expect(ddb.calls()).toHaveLength(0);
  });
});
