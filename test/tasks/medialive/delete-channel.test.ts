import {
  ConflictException,
  DeleteChannelCommand,
  DescribeChannelCommand,
  MediaLiveClient,
  NotFoundException,
} from "@aws-sdk/client-medialive";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { deleteChannel, handler } from "#tasks/medialive/delete-channel.ts";
import { awsError, lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const input = { channelId: "1234567" };
const conflict = () => new ConflictException({ message: "Cannot delete a running channel", $metadata: {} });

describe("delete-channel", () => {
  beforeEach(() => {
    ml.reset();
    useTestEnv();
  });

  it("deletes the channel", async () => {
    // Prepare
    ml.on(DeleteChannelCommand).resolves({ State: "DELETING" });

    // Act
    const out = await deleteChannel(input, taskContext());

    // Assess
    expect(out).toEqual({ deleted: true, state: "DELETING" });
    expect(ml.commandCalls(DeleteChannelCommand)[0]?.args[0].input).toEqual({ ChannelId: "1234567" });
  });

  it("counts a channel MediaLive no longer knows as not deleted (idempotent)", async () => {
    ml.on(DeleteChannelCommand).rejects(new NotFoundException({ message: "not found", $metadata: {} }));

    await expect(deleteChannel(input, taskContext())).resolves.toEqual({ deleted: false, state: "DELETED" });
  });

  it("fails with ChannelNotReady on a Conflict while the channel is RUNNING", async () => {
    ml.on(DeleteChannelCommand).rejects(conflict());
    ml.on(DescribeChannelCommand).resolves({ State: "RUNNING" });

    await expect(deleteChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotReady,
    });
  });

  it.each(["DELETING", "DELETED"] as const)(
    "counts a Conflict while the channel is %s as done",
    async (state) => {
      ml.on(DeleteChannelCommand).rejects(conflict());
      ml.on(DescribeChannelCommand).resolves({ State: state });

      await expect(deleteChannel(input, taskContext())).resolves.toEqual({ deleted: false, state });
    },
  );

  it("lets other errors propagate under their own name", async () => {
    ml.on(DeleteChannelCommand).rejects(awsError("TooManyRequestsException", "slow down", 429));

    await expect(deleteChannel(input, taskContext())).rejects.toMatchObject({
      name: "TooManyRequestsException",
    });
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ channelId: 42 }, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("channelId");
    expect(ml.calls()).toHaveLength(0);
  });
});
