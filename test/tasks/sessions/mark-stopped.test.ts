import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { uncountedBroadcastSeconds as broadcastSeconds } from "#lib/sessions/model.ts";
import { markStopped } from "#tasks/sessions/mark-stopped.ts";
import {
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  makeSession,
  STOP_SM,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);

const executionArn = executionArnOf(STOP_SM, "stop-streaming-s1-1");
const input = { sessionId: "s1", executionArn };
const STARTED_AT = "2025-01-01T00:00:00.000Z";

const stopping = makeSession({
  streaming: {
    status: "stopping",
    isLive: true,
    attempt: 1,
    executionArn: executionArnOf(GO_LIVE_SM, "go-live-s1-1"),
    stopExecutionArn: executionArn,
    startedAt: STARTED_AT,
    totalStreamedSeconds: 500,
  },
});
const stoppedAt = "2025-01-01T00:10:00.000Z";
const idle = makeSession({
  streaming: { ...stopping.streaming, status: "idle", isLive: false, stoppedAt, totalStreamedSeconds: 1100 },
});

describe("mark-stopped", () => {
  beforeEach(() => {
    ddb.reset();
    useTestEnv();
  });

  it("adds the broadcast's duration since startedAt to totalStreamedSeconds, conditioned on the read", async () => {
    // Prepare
    ddb.on(GetCommand).resolves({ Item: item(stopping) });
    ddb.on(UpdateCommand).resolves({ Attributes: item(idle) });
    const before = 500 + (Date.now() - Date.parse(STARTED_AT)) / 1000;

    // Act
    const out = await markStopped(input);

    // Assess
    const after = 500 + (Date.now() - Date.parse(STARTED_AT)) / 1000;
    expect(out).toEqual({ sessionId: "s1", status: "idle", stoppedAt });
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.set).toMatchObject({ "streaming.status": "idle", "streaming.isLive": false });
    const total = updates[0]?.set["streaming.totalStreamedSeconds"] as number;
    expect(total).toBeGreaterThanOrEqual(before - 0.01);
    expect(total).toBeLessThanOrEqual(after + 0.01);
    expect(updates[0]?.remove).toEqual(expect.arrayContaining(["streaming.error", "streaming.playbackUrl"]));
    expect(updates[0]?.condition).toContain('streaming.status = "stopping"');
    expect(updates[0]?.condition).toContain(`streaming.stopExecutionArn = ${JSON.stringify(executionArn)}`);
    expect(updates[0]?.condition).toContain(`version = ${stopping.version}`);
  });

  it("returns without writing when this stop already made the session idle", async () => {
    ddb.on(GetCommand).resolves({ Item: item(idle) });

    const out = await markStopped(input);

    expect(out).toEqual({ sessionId: "s1", status: "idle", stoppedAt });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("reads again after a concurrent write and finds the stop recorded", async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: item(stopping) })
      .resolves({ Item: item(idle) });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));

    const out = await markStopped(input);

    expect(out.stoppedAt).toBe(stoppedAt);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
  });

  it("fails with SessionClaimLost when another execution owns the session", async () => {
    ddb.on(GetCommand).resolves({
      Item: item(
        makeSession({
          streaming: {
            ...stopping.streaming,
            stopExecutionArn: executionArnOf(STOP_SM, "stop-streaming-s1-2"),
          },
        }),
      ),
    });

    await expect(markStopped(input)).rejects.toMatchObject({ name: TaskErrors.SessionClaimLost });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe("broadcastSeconds()", () => {
  const now = new Date("2025-01-01T00:30:00.000Z");

  it("counts the seconds since startedAt", () => {
    expect(broadcastSeconds(stopping, now)).toBe(1800);
  });

  it("counts a broadcast started after the previous stop", () => {
    const s = makeSession({
      streaming: { ...stopping.streaming, startedAt: "2025-01-01T00:20:00.000Z", stoppedAt: STARTED_AT },
    });

    expect(broadcastSeconds(s, now)).toBe(600);
  });

  it.each([
    ["after", "2025-01-01T00:10:00.000Z"],
    ["at", STARTED_AT],
  ])("is 0 when stoppedAt is %s startedAt (already counted)", (_how, at) => {
    const s = makeSession({ streaming: { ...stopping.streaming, stoppedAt: at } });

    expect(broadcastSeconds(s, now)).toBe(0);
  });

  it("is 0 without a startedAt", () => {
    const s = makeSession({ streaming: { ...stopping.streaming, startedAt: undefined } });

    expect(broadcastSeconds(s, now)).toBe(0);
  });
});
