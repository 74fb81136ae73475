import {
  ConflictException,
  DescribeChannelCommand,
  MediaLiveClient,
  StartChannelCommand,
} from "@aws-sdk/client-medialive";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { handler, startChannel } from "#tasks/medialive/start-channel.ts";
import { awsError, lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const input = { channelId: "1234567" };

describe("start-channel", () => {
  beforeEach(() => {
    ml.reset();
    useTestEnv();
  });

  it("starts an IDLE channel", async () => {
    // Prepare
    ml.on(DescribeChannelCommand, { ChannelId: "1234567" }).resolves({ State: "IDLE" });
    ml.on(StartChannelCommand, { ChannelId: "1234567" }).resolves({ State: "STARTING" });

    // Act
    const out = await startChannel(input, taskContext());

    // Assess
    expect(out).toEqual({ started: true, state: "STARTING" });
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(1);
    expect(ml.commandCalls(StartChannelCommand)[0]?.args[0].input).toEqual({ ChannelId: "1234567" });
  });

  it.each(["RUNNING", "STARTING"] as const)("does not start a channel that is already %s", async (state) => {
    ml.on(DescribeChannelCommand).resolves({ State: state });

    const out = await startChannel(input, taskContext());

    expect(out).toEqual({ started: false, state });
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(0);
  });

  it.each(["CREATING", "UPDATING"] as const)(
    "fails with ChannelNotReady while the channel is %s",
    async (state) => {
      ml.on(DescribeChannelCommand).resolves({ State: state });

      await expect(startChannel(input, taskContext())).rejects.toMatchObject({
        name: TaskErrors.ChannelNotReady,
      });
      expect(ml.commandCalls(StartChannelCommand)).toHaveLength(0);
    },
  );

  it("fails with ChannelFailed when the channel is CREATE_FAILED", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "CREATE_FAILED" });

    await expect(startChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelFailed,
    });
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(0);
  });

  it("fails with ChannelNotFound when MediaLive does not know the channel", async () => {
    ml.on(DescribeChannelCommand).rejects(awsError("NotFoundException", "Channel not found", 404));

    await expect(startChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotFound,
    });
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(0);
  });

  it("treats a Conflict as success when the channel has meanwhile turned STARTING", async () => {
    ml.on(DescribeChannelCommand).resolvesOnce({ State: "IDLE" }).resolves({ State: "STARTING" });
    ml.on(StartChannelCommand).rejects(
      new ConflictException({ message: "Channel is not in a startable state", $metadata: {} }),
    );

    const out = await startChannel(input, taskContext());

    expect(out).toEqual({ started: false, state: "STARTING" });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(2);
  });

  it("rethrows a Conflict when the channel is still not starting", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });
    ml.on(StartChannelCommand).rejects(new ConflictException({ message: "conflict", $metadata: {} }));

    await expect(startChannel(input, taskContext())).rejects.toMatchObject({ name: "ConflictException" });
  });

  it("lets throttling propagate under its own name", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });
    const throttled = awsError("TooManyRequestsException", "Rate exceeded", 429);
    ml.on(StartChannelCommand).rejects(throttled);

    const err: unknown = await startChannel(input, taskContext()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("TooManyRequestsException");
    expect((err as Error).message).toBe("Rate exceeded");
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ channelId: "" }, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("channelId");
    expect(ml.calls()).toHaveLength(0);
  });
});
