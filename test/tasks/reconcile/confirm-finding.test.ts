import {
  DescribeChannelCommand,
  DescribeInputCommand,
  ListAlertsCommand,
  MediaLiveClient,
} from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { channelKey } from "#lib/channels/model.ts";
import { sessionKey } from "#lib/sessions/model.ts";
import { task as confirmFinding } from "#tasks/reconcile/confirm-finding.ts";
import { destinationItem, makeDestination, makeSource } from "#test/tasks/destinations/helpers.ts";
import { awsError, item, makeSession, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ddb = mockClient(DynamoDBDocumentClient);
// client-mediaconnect is pinned to an older SDK release than aws-sdk-client-mock's types: mock
// castflow's MediaConnect module instead of the client.
const describeFlow = vi.hoisted(() =>
  vi.fn(async (_arn: string): Promise<{ Name?: string; Status?: string } | undefined> => undefined),
);
vi.mock("#lib/aws/mediaconnect.ts", () => ({ describeFlow }));
const RUN_STARTED = "2026-11-30T12:00:00.000Z";
const base = { resourceType: "medialive-channel" as const, resourceId: "100", runStartedAt: RUN_STARTED };

describe("confirm-finding", () => {
  beforeEach(() => {
    ml.reset();
    ddb.reset();
    describeFlow.mockReset();
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

  it("skips releasing a claim whose session exists now (POST /sessions claims before it writes the session)", async () => {
    const pc = {
      channelId: "pc1",
      channelArn: "arn:aws:ivs:us-east-1:000000000000:channel/pc1",
      name: "host",
      hostUserId: "host-1",
      state: "LIVE",
      currentSessionId: "s1",
      playbackUrl: "https://pc1.m3u8",
      ingestEndpoint: "pc1.ingest",
      totalBroadcasts: 0,
      totalStreamingMinutes: 0,
      createdAt: "2026-11-30T10:00:00.000Z",
      updatedAt: "2026-11-30T11:00:00.000Z",
      version: 1,
    };
    const claim = {
      resourceType: "persistent-channel" as const,
      resourceId: "pc1",
      runStartedAt: RUN_STARTED,
    };
    ddb.on(GetCommand, { Key: channelKey("pc1") }).resolves({ Item: { ...channelKey("pc1"), ...pc } });
    ddb.on(GetCommand, { Key: sessionKey("s1") }).resolves({ Item: item(makeSession()) });
    expect(await confirmFinding.run({ ...claim, action: "release-claim" }, taskContext())).toEqual({
      confirmed: false,
      why: "its session s1 exists now",
    });
    ddb
      .on(GetCommand, { Key: sessionKey("s1") })
      .resolves({ Item: item({ ...makeSession(), status: "ended" }) });
    expect(await confirmFinding.run({ ...claim, action: "release-claim" }, taskContext())).toEqual({
      confirmed: true,
      why: "",
    });
  });

  it("confirms a flow repair only in the status it needs, and not after its source changed", async () => {
    const FLOW = "arn:aws:mediaconnect:us-east-1:000000000000:flow:1-a:castflow-source-src1";
    const flow = { resourceType: "mediaconnect-flow" as const, resourceId: FLOW, runStartedAt: RUN_STARTED };
    describeFlow.mockResolvedValue({ Name: "castflow-source-src1", Status: "ACTIVE" });
    ddb.on(GetCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(await confirmFinding.run({ ...flow, action: "release-flow" }, taskContext())).toEqual({
      confirmed: true,
      why: "",
    });
    expect(await confirmFinding.run({ ...flow, action: "delete-flow" }, taskContext())).toEqual({
      confirmed: false,
      why: "the flow is ACTIVE now",
    });
    ddb.on(GetCommand).resolves({
      Item: { ...makeSource(), updatedAt: "2026-11-30T12:00:05.000Z" },
    });
    expect(await confirmFinding.run({ ...flow, action: "stop-flow" }, taskContext())).toMatchObject({
      confirmed: false,
      why: "its source's record changed since the inventory",
    });
    describeFlow.mockResolvedValue(undefined);
    expect(await confirmFinding.run({ ...flow, action: "stop-flow" }, taskContext())).toMatchObject({
      why: "the flow no longer exists",
    });
  });

  it("skips a flow repair when a destination of its source changed since the inventory", async () => {
    const FLOW = "arn:aws:mediaconnect:us-east-1:000000000000:flow:1-a:castflow-source-src1";
    describeFlow.mockResolvedValue({ Name: "castflow-source-src1", Status: "ACTIVE" });
    ddb.on(GetCommand).resolves({});
    ddb.on(QueryCommand).resolves({
      Items: [
        destinationItem(makeDestination({ status: "starting", updatedAt: "2026-11-30T12:00:02.000Z" })),
      ],
    });
    const res = await confirmFinding.run(
      {
        resourceType: "mediaconnect-flow",
        resourceId: FLOW,
        action: "release-flow",
        runStartedAt: RUN_STARTED,
      },
      taskContext(),
    );
    expect(res).toEqual({ confirmed: false, why: "a destination of its source changed since the inventory" });
  });

  it("stops a live for lack of input only while its channel still receives nothing", async () => {
    ml.on(DescribeChannelCommand).resolves({
      State: "RUNNING",
      ChannelClass: "SINGLE_PIPELINE",
      Tags: { "castflow:session-id": "s1" },
    });
    const noInput = {
      AlertType: "RTMP Has No Audio/Video",
      Id: "a1",
      PipelineId: "0",
      SetTimestamp: new Date("2026-11-30T11:00:00Z"),
      State: "SET" as const,
    };
    ml.on(ListAlertsCommand).resolves({ Alerts: [noInput] });
    expect(await confirm({ action: "run-lifecycle" })).toEqual({ confirmed: true, why: "" });
    ml.on(ListAlertsCommand).resolves({ Alerts: [] });
    expect(await confirm({ action: "run-lifecycle" })).toEqual({
      confirmed: false,
      why: "the channel receives input again (or no longer runs)",
    });
  });
});
