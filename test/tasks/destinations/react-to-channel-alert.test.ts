import { DescribeChannelCommand, ListAlertsCommand, MediaLiveClient } from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "#api/http.ts";
import type { Destination } from "#lib/destinations/model.ts";
import { reactToChannelAlert } from "#tasks/destinations/react-to-channel-alert.ts";
import { awsError, decodeUpdates, lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";
import { destinationItem, makeDestination } from "./helpers.ts";

// The failover itself is the API's (POST /destinations/{id}/failover): only whether it is asked for is tested here.
const failoverDestination = vi.hoisted(() =>
  vi.fn(async (_d: unknown, _to: string) => ({ status: 202, body: { executionArn: "arn:exec" } })),
);
vi.mock("#api/destinations.ts", () => ({ failoverDestination }));

const ml = mockClient(MediaLiveClient);
const ddb = mockClient(DynamoDBDocumentClient);
const CHANNEL_ARN = "arn:aws:medialive:us-east-1:000000000000:channel:7654321";
const PRIMARY = "rtmp://a.rtmp.youtube.com/live2";
const BACKUP = "rtmp://b.rtmp.youtube.com/live2?backup=1";

const event = (state: "SET" | "CLEARED", overrides: Record<string, unknown> = {}) => ({
  version: "0",
  id: "ev-1",
  "detail-type": "MediaLive Channel Alert" as const,
  source: "aws.medialive" as const,
  account: "000000000000",
  time: "2026-11-30T10:00:00Z",
  region: "us-east-1",
  resources: [CHANNEL_ARN],
  detail: {
    alarm_state: state,
    alarm_id: "alarm-1",
    alert_type: "Failed to Create Output File or Socket",
    pipeline: "0",
    channel_arn: CHANNEL_ARN,
    message: `RTMP connection to [${PRIMARY}] failed: the server refused the stream`,
    ...overrides,
  },
});

const failoverReady = (o: Partial<Destination> = {}) =>
  makeDestination({
    status: "running",
    failoverEnabled: true,
    backupRtmpUrl: BACKUP,
    backupStreamKeyParameter: "/castflow/stream-keys/d1/backup",
    ...o,
  });

function given(
  d: Destination | undefined,
  opts: { state?: string; alerts?: string[]; tags?: Record<string, string> } = {},
) {
  ml.on(DescribeChannelCommand).resolves({
    State: (opts.state ?? "RUNNING") as "RUNNING",
    Tags: opts.tags ?? { "castflow:destination": "d1", "castflow:managed-by": "castflow" },
  });
  ml.on(ListAlertsCommand).resolves({
    Alerts: (opts.alerts ?? ["alarm-1"]).map((Id) => ({ Id, State: "SET" })),
  });
  ddb.on(GetCommand).resolves(d ? { Item: destinationItem(d) } : {});
}

describe("react-to-channel-alert", () => {
  beforeEach(() => {
    ml.reset();
    ddb.reset();
    failoverDestination.mockClear();
    useTestEnv();
  });

  it("fails a running destination over to its backup when its primary ingest refuses the stream", async () => {
    const d = failoverReady();
    given(d);
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toEqual([
      { outcome: "failover-started", destinationId: "d1", executionArn: "arn:exec" },
    ]);
    expect(failoverDestination).toHaveBeenCalledWith(
      expect.objectContaining({ destinationId: "d1" }),
      "backup",
    );
  });

  it("a late or repeated event about an alert that has cleared changes nothing", async () => {
    given(failoverReady(), { alerts: [] });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    given(failoverReady(), { state: "IDLE" });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    expect(failoverDestination).not.toHaveBeenCalled();
  });

  it("a destination still starting makes the event retried (DestinationBusy), as does one another request holds", async () => {
    given(failoverReady({ status: "starting" }));
    await expect(reactToChannelAlert.run(event("SET"), taskContext())).rejects.toMatchObject({
      name: "DestinationBusy",
    });
    given(failoverReady());
    failoverDestination.mockRejectedValueOnce(new ApiError(409, "conflict", "The destination is updating"));
    await expect(reactToChannelAlert.run(event("SET"), taskContext())).rejects.toMatchObject({
      name: "DestinationBusy",
    });
  });

  it("without failover (or already on the backup) records IngestRefused in castflow's words, never AWS's text", async () => {
    for (const d of [makeDestination({ status: "running" }), failoverReady({ activeUrl: "backup" })]) {
      ddb.reset();
      given(d);
      ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(d) });
      expect(await reactToChannelAlert.run(event("SET"), taskContext())).toEqual([
        { outcome: "recorded", destinationId: "d1", what: "refused" },
      ]);
      const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      const lastError = update?.set["metrics.lastError"] as { code: string; message: string };
      expect(lastError.code).toBe("IngestRefused");
      expect(lastError.message).not.toContain(PRIMARY);
    }
    expect(failoverDestination).not.toHaveBeenCalled();
  });

  it("counts a cleared alert on a running destination as one reconnect, once per alert", async () => {
    const d = makeDestination({ status: "running" });
    given(d);
    ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(d) });
    expect(await reactToChannelAlert.run(event("CLEARED"), taskContext())).toMatchObject([
      { what: "reconnected" },
    ]);
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({ "metrics.reconnects": 1, "metrics.lastReconnectAlarmId": "alarm-1" });

    ddb.reset();
    given(
      makeDestination({
        status: "running",
        metrics: { ...d.metrics, reconnects: 1, lastReconnectAlarmId: "alarm-1" },
      }),
    );
    expect(await reactToChannelAlert.run(event("CLEARED"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("ignores alerts that are not about an output, channels that are gone, and channels not castflow's", async () => {
    given(failoverReady());
    const other = event("SET", { alert_type: "Video Not Detected" });
    expect(await reactToChannelAlert.run(other, taskContext())).toMatchObject([{ outcome: "ignored" }]);
    ml.on(DescribeChannelCommand).rejects(awsError("NotFoundException", "gone", 404));
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    given(failoverReady(), { tags: { owner: "someone-else" } });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    expect(failoverDestination).not.toHaveBeenCalled();
  });

  it("on a shared channel, acts for the destinations whose active URL the alert names", async () => {
    const refused = failoverReady({ destinationId: "d1", deliveryMode: "shared" });
    const fine = failoverReady({
      destinationId: "d2",
      deliveryMode: "shared",
      rtmpUrl: "rtmp://live.twitch.tv/app",
    });
    given(undefined, { tags: { "castflow:source": "src1", "castflow:role": "shared-channel" } });
    ddb.on(QueryCommand).resolves({ Items: [destinationItem(refused), destinationItem(fine)] });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toEqual([
      { outcome: "failover-started", destinationId: "d1", executionArn: "arn:exec" },
    ]);
  });

  it("refuses an event that is not a channel alert as invalid input, never retried", async () => {
    await expect(
      reactToChannelAlert.handler(
        { ...event("SET"), "detail-type": "MediaLive Channel State Change" },
        lambdaContext,
      ),
    ).rejects.toMatchObject({ name: "InvalidTaskInput" });
  });
});
