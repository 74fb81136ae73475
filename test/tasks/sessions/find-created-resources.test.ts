import { ListChannelsCommand, ListInputsCommand, MediaLiveClient } from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { Tags } from "#lib/sessions/model.ts";
import { findCreatedResources, handler } from "#tasks/sessions/find-created-resources.ts";
import {
  executionArnOf,
  GO_LIVE_SM,
  item,
  lambdaContext,
  makeSession,
  taskContext,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ddb = mockClient(DynamoDBDocumentClient);

const executionName = "go-live-s1-2";
const executionArn = executionArnOf(GO_LIVE_SM, executionName);
const input = { sessionId: "s1", executionArn, executionName };
const tagged = (sessionId: string, createdBy: string) => ({
  [Tags.managedBy]: "castflow",
  [Tags.sessionId]: sessionId,
  [Tags.createdBy]: createdBy,
});

describe("find-created-resources", () => {
  beforeEach(() => {
    ml.reset();
    ddb.reset();
    useTestEnv();
  });

  it("returns only the channel and input tagged as created by this execution", async () => {
    // Prepare
    ml.on(ListChannelsCommand).resolves({
      Channels: [
        { Id: "c-earlier", State: "IDLE", Tags: tagged("s1", "go-live-s1-1") },
        { Id: "c-other-session", State: "IDLE", Tags: tagged("s2", executionName) },
        { Id: "c-mine", State: "CREATING", Tags: tagged("s1", executionName) },
      ],
    });
    ml.on(ListInputsCommand).resolves({
      Inputs: [
        { Id: "i-earlier", State: "DETACHED", Tags: tagged("s1", "go-live-s1-1") },
        { Id: "i-mine", State: "DETACHED", Tags: tagged("s1", executionName) },
      ],
    });
    ddb.on(GetCommand).resolves({
      Item: item(
        makeSession({
          mediaLive: { channelId: "c-earlier" },
          streaming: { status: "starting", executionArn, attempt: 2 },
        }),
      ),
    });

    // Act
    const out = await findCreatedResources(input, taskContext());

    // Assess
    expect(out).toEqual({ stopChannelId: "c-mine", createdChannelId: "c-mine", createdInputId: "i-mine" });
  });

  it("stops the session's existing channel while this execution owns the session, deleting nothing", async () => {
    ml.on(ListChannelsCommand).resolves({
      Channels: [{ Id: "c-earlier", State: "RUNNING", Tags: tagged("s1", "go-live-s1-1") }],
    });
    ml.on(ListInputsCommand).resolves({
      Inputs: [{ Id: "i-earlier", State: "ATTACHED", Tags: tagged("s1", "go-live-s1-1") }],
    });
    ddb.on(GetCommand).resolves({
      Item: item(
        makeSession({
          mediaLive: { channelId: "c-earlier" },
          streaming: { status: "starting", executionArn, attempt: 2 },
        }),
      ),
    });

    const out = await findCreatedResources(input, taskContext());

    expect(out).toEqual({ stopChannelId: "c-earlier", createdChannelId: null, createdInputId: null });
  });

  it.each([
    [
      "another execution owns it",
      { status: "starting" as const, executionArn: executionArnOf(GO_LIVE_SM, "go-live-s1-3") },
    ],
    [
      "it is live",
      { status: "live" as const, isLive: true, executionArn: executionArnOf(GO_LIVE_SM, "go-live-s1-3") },
    ],
    ["it is already in error", { status: "error" as const, executionArn }],
  ])("does not stop the session's channel when %s", async (_why, streaming) => {
    ml.on(ListChannelsCommand).resolves({ Channels: [] });
    ml.on(ListInputsCommand).resolves({ Inputs: [] });
    ddb.on(GetCommand).resolves({
      Item: item(
        makeSession({ mediaLive: { channelId: "c-earlier" }, streaming: { attempt: 3, ...streaming } }),
      ),
    });

    const out = await findCreatedResources(input, taskContext());

    expect(out).toEqual({ stopChannelId: null, createdChannelId: null, createdInputId: null });
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const { executionName: _omitted, ...rest } = input;

    const err: unknown = await handler(rest, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("executionName");
    expect(ml.calls()).toHaveLength(0);
  });
});
