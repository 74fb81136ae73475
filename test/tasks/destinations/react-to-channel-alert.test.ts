import { DescribeChannelCommand, ListAlertsCommand, MediaLiveClient } from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "#api/http.ts";
import { type Destination, destinationKey, sourceKey } from "#lib/destinations/model.ts";
import { reactToChannelAlert } from "#tasks/destinations/react-to-channel-alert.ts";
import { awsError, decodeUpdates, lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";
import { destinationItem, makeDestination, makeSource, sourceItem } from "./helpers.ts";

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
const KEY = "abcd-efgh-ijkl-mnop-qrst";
const SET_AT = new Date("2026-11-30T10:00:00Z");

/** The fields the rule's input transformer passes (never the alert's message). */
const event = (state: "SET" | "CLEARED", overrides: Record<string, unknown> = {}) => ({
  eventId: "ev-1",
  time: "2026-11-30T10:00:01Z",
  alarmState: state,
  alarmId: "alarm-1",
  alertType: "Failed to Create Output File or Socket",
  pipeline: "0",
  channelArn: CHANNEL_ARN,
  ...overrides,
});

const failoverReady = (o: Partial<Destination> = {}) =>
  makeDestination({
    status: "running",
    failoverEnabled: true,
    backupRtmpUrl: BACKUP,
    backupStreamKeyParameter: "/castflow/stream-keys/d1/backup",
    metrics: {
      starts: 1,
      failovers: 0,
      runningSeconds: 0,
      reconnects: 0,
      runningSince: "2026-11-30T09:00:00Z",
    },
    ...o,
  });

function given(
  d: Destination | undefined,
  opts: {
    state?: string;
    alert?: { state?: "SET" | "CLEARED"; url?: string } | null;
    tags?: Record<string, string>;
  } = {},
) {
  ml.on(DescribeChannelCommand).resolves({
    State: (opts.state ?? "RUNNING") as "RUNNING",
    Tags: opts.tags ?? { "castflow:destination": "d1", "castflow:managed-by": "castflow" },
  });
  const alert = opts.alert === null ? undefined : (opts.alert ?? {});
  ml.on(ListAlertsCommand).resolves({
    Alerts: alert
      ? [
          {
            Id: "alarm-1",
            AlertType: "Failed to Create Output File or Socket",
            PipelineId: "0",
            State: alert.state ?? "SET",
            SetTimestamp: SET_AT,
            // AWS's alert names the output's path: for RTMP, with the stream key.
            Message: `RTMP connection to [${alert.url ?? PRIMARY}/${KEY}] failed: the server refused the stream`,
          },
        ]
      : [],
  });
  if (d) ddb.on(GetCommand, { Key: destinationKey(d.destinationId) }).resolves({ Item: destinationItem(d) });
}

describe("react-to-channel-alert", () => {
  beforeEach(() => {
    ml.reset();
    ddb.reset();
    failoverDestination.mockClear();
    useTestEnv();
  });

  it("fails a running destination over to its backup when its primary ingest refuses the stream", async () => {
    given(failoverReady());
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toEqual([
      { outcome: "failover-started", destinationId: "d1", executionArn: "arn:exec" },
    ]);
    expect(failoverDestination).toHaveBeenCalledWith(
      expect.objectContaining({ destinationId: "d1" }),
      "backup",
    );
  });

  it("a late or repeated event changes nothing: the alert cleared, the channel stopped, or it is about a URL no longer used", async () => {
    given(failoverReady(), { alert: null });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    given(failoverReady(), { alert: { state: "CLEARED" } });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    given(failoverReady(), { state: "IDLE" });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    // Already failed over (updating onto the backup): the alert about the primary is stale.
    given(failoverReady({ activeUrl: "backup", status: "updating" }));
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    expect(failoverDestination).not.toHaveBeenCalled();
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("waits (DestinationBusy, retried by Lambda) while the destination is about to run, and ignores one that will not", async () => {
    for (const status of ["starting", "restarting", "updating"] as const) {
      given(failoverReady({ status }));
      await expect(reactToChannelAlert.run(event("SET"), taskContext())).rejects.toMatchObject({
        name: "DestinationBusy",
      });
    }
    given(failoverReady());
    failoverDestination.mockRejectedValueOnce(new ApiError(409, "conflict", "The destination is stopping"));
    await expect(reactToChannelAlert.run(event("SET"), taskContext())).rejects.toMatchObject({
      name: "DestinationBusy",
    });
    given(failoverReady({ status: "stopping" }));
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
  });

  it("without failover (or already on the backup) records IngestRefused in castflow's words, never the alert's text", async () => {
    for (const [d, url] of [
      [makeDestination({ status: "running" }), PRIMARY],
      [failoverReady({ activeUrl: "backup" }), BACKUP],
    ] as const) {
      ddb.reset();
      given(d, { alert: { url } });
      ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(d) });
      expect(await reactToChannelAlert.run(event("SET"), taskContext())).toEqual([
        { outcome: "recorded", destinationId: "d1", what: "refused" },
      ]);
      const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
      const lastError = update?.set["metrics.lastError"] as { code: string; message: string };
      expect(lastError.code).toBe("IngestRefused");
      expect(JSON.stringify(update)).not.toContain(KEY);
      expect(update?.condition).toContain("version");
    }
    expect(failoverDestination).not.toHaveBeenCalled();
  });

  it("counts a cleared alert as one reconnect per occurrence, but not one that cleared with a restart", async () => {
    const d = failoverReady();
    given(d, { alert: { state: "CLEARED" } });
    ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(d) });
    expect(await reactToChannelAlert.run(event("CLEARED"), taskContext())).toMatchObject([
      { what: "reconnected" },
    ]);
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({
      "metrics.reconnects": 1,
      "metrics.lastReconnectAlarmId": `alarm-1@${SET_AT.toISOString()}`,
    });

    ddb.reset();
    const counted = failoverReady({
      metrics: { ...d.metrics, reconnects: 1, lastReconnectAlarmId: `alarm-1@${SET_AT.toISOString()}` },
    });
    given(counted, { alert: { state: "CLEARED" } });
    expect(await reactToChannelAlert.run(event("CLEARED"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    ddb.reset();
    given(failoverReady({ metrics: { ...d.metrics, runningSince: "2026-11-30T10:05:00Z" } }), {
      alert: { state: "CLEARED" },
    });
    expect(await reactToChannelAlert.run(event("CLEARED"), taskContext())).toMatchObject([
      { outcome: "ignored", reason: "the alert cleared with a restart" },
    ]);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("ignores alerts not about an output, channels gone, channels not castflow's or no longer the record's", async () => {
    given(failoverReady());
    const other = event("SET", { alertType: "Video Not Detected" });
    expect(await reactToChannelAlert.run(other, taskContext())).toMatchObject([{ outcome: "ignored" }]);
    given(failoverReady({ mediaLive: { channelId: "1111111" } }));
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    given(failoverReady(), { tags: { owner: "someone-else" } });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    ml.on(DescribeChannelCommand).rejects(awsError("NotFoundException", "gone", 404));
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toMatchObject([
      { outcome: "ignored" },
    ]);
    expect(failoverDestination).not.toHaveBeenCalled();
  });

  it("shared channel: fails over the one destination the alert names; two on the same URL are only recorded", async () => {
    const shared = (id: string, url: string) =>
      failoverReady({ destinationId: id, deliveryMode: "shared", rtmpUrl: url, wanted: "running" });
    const source = makeSource({ shared: { channelId: "7654321", outputs: {}, requested: 1 } });
    const tags = { "castflow:source": source.sourceId, "castflow:role": "shared-channel" };
    given(undefined, { tags });
    ddb.on(GetCommand, { Key: sourceKey(source.sourceId) }).resolves({ Item: sourceItem(source) });
    ddb.on(QueryCommand).resolves({
      Items: [shared("d1", PRIMARY), shared("d2", "rtmp://live.twitch.tv/app")].map(destinationItem),
    });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toEqual([
      { outcome: "failover-started", destinationId: "d1", executionArn: "arn:exec" },
    ]);

    failoverDestination.mockClear();
    ddb
      .on(QueryCommand)
      .resolves({ Items: [shared("d1", PRIMARY), shared("d3", PRIMARY)].map(destinationItem) });
    ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(shared("d1", PRIMARY)) });
    expect(await reactToChannelAlert.run(event("SET"), taskContext())).toEqual([
      { outcome: "recorded", destinationId: "d1", what: "refused" },
      { outcome: "recorded", destinationId: "d3", what: "refused" },
    ]);
    expect(failoverDestination).not.toHaveBeenCalled();
  });

  it("refuses a payload that is not the alert's fields as invalid input", async () => {
    await expect(
      reactToChannelAlert.handler({ ...event("SET"), alarmState: "ALARM" }, lambdaContext),
    ).rejects.toMatchObject({ name: "InvalidTaskInput" });
  });
});
