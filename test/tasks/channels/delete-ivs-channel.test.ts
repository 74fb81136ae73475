import {
  DeleteChannelCommand,
  DeleteStreamKeyCommand,
  GetChannelCommand,
  GetStreamCommand,
  IvsClient,
  ListStreamKeysCommand,
  StopStreamCommand,
} from "@aws-sdk/client-ivs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { deleteIvsChannel, handler } from "#tasks/channels/delete-ivs-channel.ts";
import { awsError, lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ivs = mockClient(IvsClient);

const channelArn = "arn:aws:ivs:us-east-1:000000000000:channel/relay1";
const keyArns = [
  "arn:aws:ivs:us-east-1:000000000000:stream-key/key1",
  "arn:aws:ivs:us-east-1:000000000000:stream-key/key2",
];

/** The command names IVS received, in order. */
const callOrder = () =>
  ivs.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

describe("delete-ivs-channel", () => {
  beforeEach(() => {
    ivs.reset();
    useTestEnv();
    ivs.on(GetChannelCommand, { arn: channelArn }).resolves({
      channel: { arn: channelArn, tags: { "castflow:managed-by": "castflow", "castflow:role": "relay" } },
    });
  });

  it("refuses a host's persistent channel before revoking anything (ChannelNotDeletable)", async () => {
    ivs.on(GetChannelCommand, { arn: channelArn }).resolves({
      channel: {
        arn: channelArn,
        tags: { "castflow:managed-by": "castflow", "castflow:role": "persistent" },
      },
    });

    await expect(deleteIvsChannel({ channelArn }, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotDeletable,
    });
    expect(callOrder()).toEqual(["GetChannelCommand"]);
  });

  it("deletes an offline channel without touching its keys or stream", async () => {
    // Prepare
    ivs.on(GetStreamCommand).rejects(awsError("ChannelNotBroadcasting", "not live", 404));
    ivs.on(DeleteChannelCommand).resolves({});

    // Act
    const out = await deleteIvsChannel({ channelArn }, taskContext());

    // Assess
    expect(out).toEqual({ deleted: true, stoppedStream: false });
    expect(callOrder()).toEqual(["GetChannelCommand", "GetStreamCommand", "DeleteChannelCommand"]);
    expect(ivs.commandCalls(DeleteChannelCommand)[0]?.args[0].input).toEqual({ arn: channelArn });
  });

  it("revokes every stream key and stops a live stream before deleting the channel", async () => {
    // Prepare
    ivs.on(GetStreamCommand).resolves({ stream: { channelArn, state: "LIVE" } });
    ivs.on(ListStreamKeysCommand).resolves({ streamKeys: keyArns.map((arn) => ({ arn, channelArn })) });
    ivs.on(DeleteStreamKeyCommand).resolves({});
    ivs.on(StopStreamCommand).resolves({});
    ivs.on(DeleteChannelCommand).resolves({});

    // Act
    const out = await deleteIvsChannel({ channelArn }, taskContext());

    // Assess
    expect(out).toEqual({ deleted: true, stoppedStream: true });
    expect(callOrder()).toEqual([
      "GetChannelCommand",
      "GetStreamCommand",
      "ListStreamKeysCommand",
      "DeleteStreamKeyCommand",
      "DeleteStreamKeyCommand",
      "StopStreamCommand",
      "DeleteChannelCommand",
    ]);
    expect(ivs.commandCalls(DeleteStreamKeyCommand).map((c) => c.args[0].input.arn)).toEqual(keyArns);
    expect(ivs.commandCalls(StopStreamCommand)[0]?.args[0].input).toEqual({ channelArn });
  });

  it("fails with IvsChannelBusy when IVS still refuses the delete with a conflict", async () => {
    ivs.on(GetStreamCommand).rejects(awsError("ChannelNotBroadcasting", "not live", 404));
    ivs.on(DeleteChannelCommand).rejects(awsError("ConflictException", "channel is live", 409));

    await expect(deleteIvsChannel({ channelArn }, taskContext())).rejects.toMatchObject({
      name: TaskErrors.IvsChannelBusy,
    });
  });

  it("answers deleted: false when the channel is already gone", async () => {
    ivs.on(GetStreamCommand).rejects(awsError("ResourceNotFoundException", "no channel", 404));
    ivs.on(DeleteChannelCommand).rejects(awsError("ResourceNotFoundException", "no channel", 404));

    const out = await deleteIvsChannel({ channelArn }, taskContext());

    expect(out).toEqual({ deleted: false, stoppedStream: false });
  });

  it("lets throttling of the stream check propagate with its name, deleting nothing", async () => {
    ivs.on(GetStreamCommand).rejects(awsError("ThrottlingException", "slow down", 429));

    await expect(deleteIvsChannel({ channelArn }, taskContext())).rejects.toMatchObject({
      name: "ThrottlingException",
    });
    expect(ivs.commandCalls(DeleteChannelCommand)).toHaveLength(0);
  });

  it("lets throttling of the delete propagate with its name", async () => {
    ivs.on(GetStreamCommand).rejects(awsError("ChannelNotBroadcasting", "not live", 404));
    ivs.on(DeleteChannelCommand).rejects(awsError("ThrottlingException", "slow down", 429));

    await expect(deleteIvsChannel({ channelArn }, taskContext())).rejects.toMatchObject({
      name: "ThrottlingException",
    });
  });

  it("handler: a missing channelArn fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({}, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("channelArn");
    expect(ivs.calls()).toHaveLength(0);
  });
});
