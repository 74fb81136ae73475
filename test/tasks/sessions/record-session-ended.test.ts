import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import type { Session } from "#lib/sessions/model.ts";
import {
  handler,
  type RecordSessionEndedInput,
  recordSessionEnded,
} from "#tasks/sessions/record-session-ended.ts";
import {
  decodeUpdates,
  executionArnOf,
  item,
  lambdaContext,
  makeSession,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);

const END_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-end-session";
const executionArn = executionArnOf(END_SM, "end-session-s1-1");

const MEDIALIVE_PATHS = [
  "mediaLive.channelId",
  "mediaLive.channelArn",
  "mediaLive.inputIds.host",
  "mediaLive.rtmpEndpoints.host",
];
const RELAY_PATHS = ["ivs.relayChannelArn", "ivs.relayIngestEndpoint", "ivs.relayPlaybackUrl"];

const ending: Session = {
  ...makeSession({ mediaLive: { channelId: "5550001", inputIds: { host: "7654321" } } }),
  status: "ending",
  ivs: {
    persistentChannelId: "pers1",
    relayChannelArn: "arn:aws:ivs:us-east-1:000000000000:channel/relay1",
  },
  end: { executionArn, streamedSeconds: 60 },
};

const succeeded = (part: RecordSessionEndedInput["parts"][number]["part"]) => ({
  part,
  attempted: true,
  success: true,
  error: null,
});

describe("record-session-ended", () => {
  beforeEach(() => {
    ddb.reset();
    useTestEnv();
    ddb.on(GetCommand).resolves({ Item: item(ending) });
    ddb.on(UpdateCommand).resolves({ Attributes: item({ ...ending, status: "ended" }) });
  });

  it("marks the session ended with every part's result and removes the ids of what is gone", async () => {
    // Act
    const out = await recordSessionEnded({
      sessionId: "s1",
      executionArn,
      parts: [succeeded("mediaLive"), succeeded("relayChannel"), succeeded("persistentChannel")],
    });

    // Assess
    expect(out).toEqual({ allSucceeded: true, failedParts: [] });
    const updates = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(updates).toHaveLength(1);
    const update = updates[0];
    expect(update?.set).toMatchObject({
      status: "ended",
      "streaming.status": "idle",
      "streaming.isLive": false,
      "end.cleanupResults": {
        mediaLive: { attempted: true, success: true, error: null },
        relayChannel: { attempted: true, success: true, error: null },
        persistentChannel: { attempted: true, success: true, error: null },
      },
    });
    expect(typeof update?.set["end.endedAt"]).toBe("string");
    expect(update?.remove).toEqual(expect.arrayContaining([...MEDIALIVE_PATHS, ...RELAY_PATHS]));
    expect(update?.condition).toContain('status = "ending"');
    expect(update?.condition).toContain(`end.executionArn = ${JSON.stringify(executionArn)}`);
  });

  it("records a failed part with its error (a Lambda JSON Cause as its errorMessage) and keeps its ids", async () => {
    // Prepare
    const cause = JSON.stringify({
      errorType: "IvsChannelBusy",
      errorMessage: "IVS channel relay1 is still live; delete refused",
      trace: ["at deleteIvsChannel (delete-ivs-channel.ts:50)"],
    });

    // Act
    const out = await recordSessionEnded({
      sessionId: "s1",
      executionArn,
      parts: [
        succeeded("mediaLive"),
        {
          part: "relayChannel",
          attempted: true,
          success: false,
          error: { Error: "IvsChannelBusy", Cause: cause },
        },
        succeeded("persistentChannel"),
      ],
    });

    // Assess
    expect(out).toEqual({ allSucceeded: false, failedParts: ["relayChannel"] });
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set["end.cleanupResults"]).toMatchObject({
      relayChannel: {
        attempted: true,
        success: false,
        error: { code: "IvsChannelBusy", message: "IVS channel relay1 is still live; delete refused" },
      },
    });
    expect(update?.remove).toEqual(expect.arrayContaining(MEDIALIVE_PATHS));
    for (const path of RELAY_PATHS) expect(update?.remove).not.toContain(path);
  });

  it("keeps the MediaLive ids when the MediaLive part failed, with a plain-text Cause as is", async () => {
    const out = await recordSessionEnded({
      sessionId: "s1",
      executionArn,
      parts: [
        {
          part: "mediaLive",
          attempted: true,
          success: false,
          error: { Error: "States.Timeout", Cause: "The channel did not stop in time" },
        },
        succeeded("relayChannel"),
      ],
    });

    expect(out).toEqual({ allSucceeded: false, failedParts: ["mediaLive"] });
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set["end.cleanupResults"]).toMatchObject({
      mediaLive: {
        success: false,
        error: { code: "States.Timeout", message: "The channel did not stop in time" },
      },
    });
    for (const path of MEDIALIVE_PATHS) expect(update?.remove).not.toContain(path);
    expect(update?.remove).toEqual(expect.arrayContaining(RELAY_PATHS));
  });

  it("counts a part skipped as not needed (not attempted, success) as succeeded", async () => {
    const out = await recordSessionEnded({
      sessionId: "s1",
      executionArn,
      parts: [
        { part: "mediaLive", attempted: false, success: true, error: null },
        succeeded("programChannel"),
      ],
    });

    expect(out).toEqual({ allSucceeded: true, failedParts: [] });
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set["end.cleanupResults"]).toEqual({
      mediaLive: { attempted: false, success: true, error: null },
      programChannel: { attempted: true, success: true, error: null },
    });
  });

  it("fails with SessionClaimLost when the session is no longer ending by this execution", async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));

    await expect(
      recordSessionEnded({ sessionId: "s1", executionArn, parts: [succeeded("mediaLive")] }),
    ).rejects.toMatchObject({ name: TaskErrors.SessionClaimLost });
  });

  it("does not write again when this execution already recorded the end", async () => {
    ddb.on(GetCommand).resolves({ Item: item({ ...ending, status: "ended" }) });

    const out = await recordSessionEnded({ sessionId: "s1", executionArn, parts: [succeeded("mediaLive")] });

    expect(out).toEqual({ allSucceeded: true, failedParts: [] });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("handler: an empty parts list fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ sessionId: "s1", executionArn, parts: [] }, lambdaContext).catch(
      (e: unknown) => e,
    );

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("parts");
    expect(ddb.calls()).toHaveLength(0);
  });
});
