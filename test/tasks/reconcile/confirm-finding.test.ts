import { DescribeChannelCommand, DescribeInputCommand, MediaLiveClient } from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { task as confirmFinding } from "#tasks/reconcile/confirm-finding.ts";
import { awsError, item, makeSession, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ddb = mockClient(DynamoDBDocumentClient);
const RUN_STARTED = "2026-11-30T12:00:00.000Z";
const base = { resourceType: "medialive-channel" as const, resourceId: "100", runStartedAt: RUN_STARTED };

describe("confirm-finding", () => {
  beforeEach(() => {
    ml.reset();
    ddb.reset();
    useTestEnv();
    ml.on(DescribeChannelCommand).resolves({ State: "RUNNING", Tags: { "castflow:session-id": "s1" } });
    ddb.on(GetCommand).resolves({ Item: item({ ...makeSession(), updatedAt: "2026-11-30T11:00:00.000Z" }) });
  });

  const confirm = (over: Record<string, string> = {}) =>
    confirmFinding.run({ ...base, action: "stop-channel", ...over } as never, taskContext());

  it("confirms a channel still RUNNING whose session has not changed since the run started", async () => {
    expect(await confirm()).toEqual({ confirmed: true, why: "" });
  });

  it("skips a stop when the channel is no longer RUNNING, and a delete when it is no longer at rest", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "STARTING", Tags: {} });
    expect(await confirm()).toMatchObject({ confirmed: false, why: "the channel is STARTING now" });
    expect(await confirm({ action: "delete-channel" })).toMatchObject({ confirmed: false });
    ml.on(DescribeChannelCommand).rejects(awsError("NotFoundException", "gone", 404));
    expect(await confirm()).toMatchObject({ confirmed: false, why: "the channel no longer exists" });
  });

  it("skips when a lifecycle wrote the record since the run started (a go-live reusing the channel)", async () => {
    ddb.on(GetCommand).resolves({ Item: item({ ...makeSession(), updatedAt: "2026-11-30T12:00:01.000Z" }) });
    expect(await confirm()).toMatchObject({
      confirmed: false,
      why: "its record changed since the inventory",
    });
    expect(
      await confirmFinding.run(
        { resourceType: "session", resourceId: "s1", action: "settle", runStartedAt: RUN_STARTED },
        taskContext(),
      ),
    ).toMatchObject({ confirmed: false });
  });

  it("skips deleting an input that a channel uses again", async () => {
    ml.on(DescribeInputCommand).resolves({ State: "ATTACHED", AttachedChannels: ["100"], Tags: {} });
    const res = await confirmFinding.run(
      {
        resourceType: "medialive-input",
        resourceId: "200",
        action: "delete-input",
        runStartedAt: RUN_STARTED,
      },
      taskContext(),
    );
    expect(res).toMatchObject({ confirmed: false, why: "the input is attached to a channel now" });
  });
});
