import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  GetChannelCommand,
  GetStreamKeyCommand,
  IvsClient,
  ListStreamKeysCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-ivs";
import {
  CreateChannelCommand,
  DescribeChannelCommand,
  DescribeInputCommand,
  ListChannelsCommand,
  MediaLiveClient,
  NotFoundException,
  UpdateChannelCommand,
} from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { Tags } from "#lib/sessions/model.ts";
import { ensureChannel, handler } from "#tasks/sessions/ensure-channel.ts";
import {
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  lambdaContext,
  makeSession,
  PROGRAM_CHANNEL_ARN,
  RECORDING_BUCKET,
  ROLE_ARN,
  TABLE,
  taskContext,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ivs = mockClient(IvsClient);
const ddb = mockClient(DynamoDBDocumentClient);

/** Made at run time: no key-shaped literal in the code. */
const STREAM_KEY = `sk_us-east-1_${randomUUID().replaceAll("-", "")}`;
const INGEST = "abc123.global-contribute.live-video.net";
const executionName = "go-live-s1-1";
const executionArn = executionArnOf(GO_LIVE_SM, executionName);
const baseInput = {
  sessionId: "s1",
  executionArn,
  executionName,
  channelId: null,
  inputId: "7654321",
  programChannelArn: PROGRAM_CHANNEL_ARN,
};
const channelArn = (id: string) => `arn:aws:medialive:us-east-1:000000000000:channel:${id}`;

function givenIvsProgramChannel(): void {
  ivs.on(GetChannelCommand, { arn: PROGRAM_CHANNEL_ARN }).resolves({
    channel: {
      arn: PROGRAM_CHANNEL_ARN,
      ingestEndpoint: INGEST,
      playbackUrl: "https://abc123.playback.live-video.net/prog1.m3u8",
    },
  });
  const keyArn = "arn:aws:ivs:us-east-1:000000000000:stream-key/key1";
  ivs
    .on(ListStreamKeysCommand, { channelArn: PROGRAM_CHANNEL_ARN })
    .resolves({ streamKeys: [{ arn: keyArn }] });
  ivs.on(GetStreamKeyCommand, { arn: keyArn }).resolves({
    streamKey: { arn: keyArn, channelArn: PROGRAM_CHANNEL_ARN, value: STREAM_KEY },
  });
}

function givenSessionOwned(channelId: string): void {
  ddb.on(UpdateCommand).resolves({
    Attributes: item(
      makeSession({
        mediaLive: { channelId, channelArn: channelArn(channelId), inputIds: { host: "7654321" } },
        streaming: { status: "starting", executionArn, attempt: 1 },
      }),
    ),
  });
}

describe("ensure-channel", () => {
  beforeEach(() => {
    ml.reset();
    ivs.reset();
    ddb.reset();
    useTestEnv();
  });

  describe("with no recorded channel and none tagged", () => {
    beforeEach(() => {
      ml.on(ListChannelsCommand).resolves({ Channels: [] });
      ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "DETACHED" });
      givenIvsProgramChannel();
      ml.on(CreateChannelCommand).resolves({
        Channel: {
          Id: "9000001",
          Arn: channelArn("9000001"),
          State: "CREATING",
          Tags: { [Tags.sessionId]: "s1", [Tags.createdBy]: executionName },
        },
      });
      givenSessionOwned("9000001");
    });

    it("never adopts by tag a channel reconcile retired from the session: creates a new one", async () => {
      ml.on(ListChannelsCommand).resolves({
        Channels: [
          { Id: "1110009", Arn: channelArn("1110009"), State: "IDLE", Tags: { [Tags.sessionId]: "s1" } },
        ],
      });
      const s = makeSession();
      ddb.on(GetCommand).resolves({
        Item: item({
          ...s,
          mediaLive: { ...s.mediaLive, retired: { channelId: "1110009", at: "2026-11-30T00:00:00Z" } },
        }),
      });

      const out = await ensureChannel(baseInput, taskContext());

      expect(out).toMatchObject({ channelId: "9000001", created: true });
      expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(1);
    });

    it.each(["CREATING", "ATTACHED"] as const)(
      "fails with InputNotReady (retried soon) while the input is %s, creating nothing",
      async (state) => {
        ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: state });

        await expect(ensureChannel(baseInput, taskContext())).rejects.toMatchObject({
          name: TaskErrors.InputNotReady,
        });
        expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
      },
    );

    it("creates a single-pipeline channel to IVS over RTMPS and to S3 as HLS", async () => {
      // Act
      const before = new Date().toISOString();
      const out = await ensureChannel(baseInput, taskContext());
      const after = new Date().toISOString();

      // Assess: IVS was read for the ingest and the key
      expect(ivs.commandCalls(GetChannelCommand)).toHaveLength(1);
      expect(ivs.commandCalls(ListStreamKeysCommand)).toHaveLength(1);
      expect(ivs.commandCalls(GetStreamKeyCommand)).toHaveLength(1);

      const creates = ml.commandCalls(CreateChannelCommand);
      expect(creates).toHaveLength(1);
      const req = creates[0]?.args[0].input;
      expect(req?.ChannelClass).toBe("SINGLE_PIPELINE");
      expect(req?.RequestId).toBe(`${executionName}-channel`);
      expect(req?.RoleArn).toBe(ROLE_ARN);
      expect(req?.InputAttachments?.map((a) => a.InputId)).toEqual(["7654321"]);
      for (const destination of req?.Destinations ?? []) expect(destination.Settings).toHaveLength(1);
      const urls = (req?.Destinations ?? []).flatMap((d) => d.Settings ?? []);
      expect(urls).toHaveLength(2);
      expect(urls).toContainEqual({ Url: `rtmps://${INGEST}:443/app/`, StreamName: STREAM_KEY });
      const hls = urls.find((s) => s.Url?.startsWith("s3ssl://"));
      expect(hls?.Url?.startsWith(`s3ssl://${RECORDING_BUCKET}/sessions/s1/recording/`)).toBe(true);
      expect(req?.Tags).toMatchObject({ [Tags.sessionId]: "s1", [Tags.createdBy]: executionName });

      expect(out).toEqual({
        channelId: "9000001",
        channelArn: channelArn("9000001"),
        state: "CREATING",
        observedAt: expect.any(String),
        created: true,
        needsRepoint: false,
      });
      // When it began to look: a state-change event from then on may be newer than `state`.
      expect(out.observedAt >= before && out.observedAt <= after).toBe(true);
    });

    it("records the channel on the session only while this execution owns it", async () => {
      await ensureChannel(baseInput, taskContext());

      const updates = ddb.commandCalls(UpdateCommand);
      expect(updates).toHaveLength(1);
      const update = updates[0]?.args[0].input;
      expect(update?.TableName).toBe(TABLE);
      expect(update?.Key).toEqual({ pk: "SESSION#s1", sk: "SESSION" });
      const [decoded] = decodeUpdates(updates);
      expect(decoded?.set).toMatchObject({
        "mediaLive.channelId": "9000001",
        "mediaLive.channelArn": channelArn("9000001"),
      });
      expect(decoded?.condition).toContain('streaming.status = "starting"');
      expect(decoded?.condition).toContain(`streaming.executionArn = ${JSON.stringify(executionArn)}`);
    });

    it("never returns the stream key", async () => {
      const out = await ensureChannel(baseInput, taskContext());

      expect(JSON.stringify(out)).not.toContain(STREAM_KEY);
      // nor writes it to the session
      expect(JSON.stringify(ddb.commandCalls(UpdateCommand)[0]?.args[0].input)).not.toContain(STREAM_KEY);
    });

    it("fails with ProgramChannelMissing when the IVS channel is gone", async () => {
      ivs
        .on(GetChannelCommand)
        .rejects(new ResourceNotFoundException({ message: "channel not found", $metadata: {} }));

      await expect(ensureChannel(baseInput, taskContext())).rejects.toMatchObject({
        name: TaskErrors.ProgramChannelMissing,
      });
      expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
    });

    it("fails with SessionClaimLost when the session is no longer owned by this execution", async () => {
      ddb
        .on(UpdateCommand)
        .rejects(
          new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }),
        );

      await expect(ensureChannel(baseInput, taskContext())).rejects.toMatchObject({
        name: TaskErrors.SessionClaimLost,
      });
    });
  });

  it("reuses the recorded channel when it still exists", async () => {
    // Prepare
    ml.on(DescribeChannelCommand, { ChannelId: "5550001" }).resolves({
      Id: "5550001",
      Arn: channelArn("5550001"),
      State: "IDLE",
      Tags: { [Tags.sessionId]: "s1", [Tags.createdBy]: "go-live-s1-0" },
    });
    givenSessionOwned("5550001");

    // Act
    const out = await ensureChannel({ ...baseInput, channelId: "5550001" }, taskContext());

    // Assess
    expect(out).toEqual({
      channelId: "5550001",
      channelArn: channelArn("5550001"),
      state: "IDLE",
      observedAt: expect.any(String),
      created: false,
      needsRepoint: false,
    });
    expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
    expect(ivs.calls()).toHaveLength(0);
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({ "mediaLive.channelId": "5550001" });
  });

  it.each(["RUNNING", "STOPPING"])(
    "reports a reused %s channel on a rotated key as needing a re-point, and edits nothing",
    async (state) => {
      // Prepare: the channel pushes to a key IVS no longer has.
      givenIvsProgramChannel();
      ml.on(DescribeChannelCommand, { ChannelId: "5550001" }).resolves({
        Id: "5550001",
        Arn: channelArn("5550001"),
        State: state as "RUNNING",
        Tags: { [Tags.sessionId]: "s1" },
        Destinations: [
          {
            Id: "ivs-program",
            Settings: [{ Url: `rtmps://${INGEST}:443/app/`, StreamName: "a-rotated-away-key" }],
          },
        ],
      });
      givenSessionOwned("5550001");

      // Act
      const out = await ensureChannel({ ...baseInput, channelId: "5550001" }, taskContext());

      // Assess: MediaLive edits only IDLE channels; the machine stops, updates, starts.
      expect(out).toMatchObject({ channelId: "5550001", state, needsRepoint: true });
      expect(ml.commandCalls(UpdateChannelCommand)).toHaveLength(0);
    },
  );

  it("finds the channel by the session tag when the record was lost, and reuses it", async () => {
    ml.on(DescribeChannelCommand).rejects(new NotFoundException({ message: "not found", $metadata: {} }));
    ml.on(ListChannelsCommand).resolves({
      Channels: [
        { Id: "1110001", Arn: channelArn("1110001"), State: "IDLE", Tags: { [Tags.sessionId]: "other" } },
        { Id: "1110002", Arn: channelArn("1110002"), State: "DELETING", Tags: { [Tags.sessionId]: "s1" } },
        {
          Id: "1110003",
          Arn: channelArn("1110003"),
          State: "CREATING",
          Tags: { [Tags.sessionId]: "s1", [Tags.createdBy]: executionName },
        },
      ],
    });
    givenSessionOwned("1110003");
    ddb.on(GetCommand).resolves({ Item: item(makeSession()) });

    const out = await ensureChannel({ ...baseInput, channelId: "lost-id" }, taskContext());

    expect(out).toEqual({
      channelId: "1110003",
      channelArn: channelArn("1110003"),
      state: "CREATING",
      observedAt: expect.any(String),
      created: true,
      needsRepoint: false,
    });
    expect(ml.commandCalls(ListChannelsCommand)).toHaveLength(1);
    expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
    expect(ivs.calls()).toHaveLength(0);
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const { inputId: _omitted, ...rest } = baseInput;

    const err: unknown = await handler(rest, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("inputId");
    expect(ml.calls()).toHaveLength(0);
  });
});
