import {
  ConflictException,
  DescribeChannelCommand,
  MediaLiveClient,
  NotFoundException,
  StartChannelCommand,
} from "@aws-sdk/client-medialive";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { handler, startChannel } from "#tasks/medialive/start-channel.ts";
import { awsError, lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const input = { channelId: "1234567" };
const conflict = () =>
  new ConflictException({ message: "Channel is not in a startable state", $metadata: {} });

describe("start-channel", () => {
  beforeEach(() => {
    ml.reset();
    useTestEnv();
  });

  it("starts an IDLE channel with one StartChannel and no DescribeChannel", async () => {
    // Prepare
    ml.on(StartChannelCommand, { ChannelId: "1234567" }).resolves({ State: "STARTING" });

    // Act
    const out = await startChannel(input, taskContext());

    // Assess
    expect(out).toEqual({ started: true, state: "STARTING" });
    expect(ml.commandCalls(StartChannelCommand).map((c) => c.args[0].input)).toEqual([
      { ChannelId: "1234567" },
    ]);
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it("reports STARTING when StartChannel answers without a state", async () => {
    ml.on(StartChannelCommand).resolves({});

    const out = await startChannel(input, taskContext());

    expect(out).toEqual({ started: true, state: "STARTING" });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it.each(["RUNNING", "STARTING", "RECOVERING"] as const)(
    "does not start a channel that is already %s",
    async (state) => {
      // Prepare
      ml.on(StartChannelCommand).rejects(conflict());
      ml.on(DescribeChannelCommand, { ChannelId: "1234567" }).resolves({ State: state });

      // Act
      const out = await startChannel(input, taskContext());

      // Assess
      expect(out).toEqual({ started: false, state });
      expect(ml.commandCalls(StartChannelCommand)).toHaveLength(1);
      expect(ml.commandCalls(DescribeChannelCommand).map((c) => c.args[0].input)).toEqual([
        { ChannelId: "1234567" },
      ]);
    },
  );

  it.each(["CREATING", "UPDATING", "STOPPING"] as const)(
    "fails with ChannelNotReady on a Conflict while the channel is %s",
    async (state) => {
      ml.on(StartChannelCommand).rejects(conflict());
      ml.on(DescribeChannelCommand).resolves({ State: state });

      await expect(startChannel(input, taskContext())).rejects.toMatchObject({
        name: TaskErrors.ChannelNotReady,
      });
      expect(ml.commandCalls(StartChannelCommand)).toHaveLength(1);
      expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(1);
    },
  );

  it.each(["CREATE_FAILED", "UPDATE_FAILED"] as const)(
    "fails with ChannelFailed on a Conflict when the channel is %s",
    async (state) => {
      ml.on(StartChannelCommand).rejects(conflict());
      ml.on(DescribeChannelCommand).resolves({ State: state });

      await expect(startChannel(input, taskContext())).rejects.toMatchObject({
        name: TaskErrors.ChannelFailed,
      });
      expect(ml.commandCalls(StartChannelCommand)).toHaveLength(1);
      expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(1);
    },
  );

  it("fails with ChannelNotFound, without a describe, when StartChannel answers NotFound", async () => {
    ml.on(StartChannelCommand).rejects(awsError("NotFoundException", "Channel not found", 404));

    await expect(startChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotFound,
    });
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(1);
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it("fails with ChannelNotFound when the channel vanishes between the Conflict and the describe", async () => {
    ml.on(StartChannelCommand).rejects(conflict());
    ml.on(DescribeChannelCommand).rejects(new NotFoundException({ message: "gone", $metadata: {} }));

    await expect(startChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotFound,
    });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(1);
  });

  it("asks once more when the refused channel is IDLE by the describe, and rethrows a second refusal", async () => {
    const refused = conflict();
    ml.on(StartChannelCommand).rejects(refused);
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });

    const err: unknown = await startChannel(input, taskContext()).catch((e: unknown) => e);

    expect(err).toBe(refused);
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(2);
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(1);
  });

  it("starts a channel that became IDLE between a 400 and the describe (the end of its create)", async () => {
    ml.on(StartChannelCommand)
      .rejectsOnce(awsError("BadRequestException", "Channel is still being created", 400))
      .resolves({ State: "STARTING" });
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });

    const out = await startChannel(input, taskContext());

    expect(out).toEqual({ started: true, state: "STARTING" });
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(2);
  });

  it("fails with ChannelNotFound on a refusal while the channel is DELETING: no retries for minutes", async () => {
    ml.on(StartChannelCommand).rejects(conflict());
    ml.on(DescribeChannelCommand).resolves({ State: "DELETING" });

    await expect(startChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotFound,
    });
  });

  it("takes a 400 for a channel still being created as not ready (MediaLive answers 400, not 409, there)", async () => {
    ml.on(StartChannelCommand).rejects(awsError("BadRequestException", "Channel is not idle", 400));
    ml.on(DescribeChannelCommand).resolves({ State: "CREATING" });

    await expect(startChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotReady,
    });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(1);
  });

  it("rethrows a 400 when the channel is IDLE: the request itself was wrong", async () => {
    const refused = awsError("BadRequestException", "Invalid request", 400);
    ml.on(StartChannelCommand).rejects(refused);
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });

    const err: unknown = await startChannel(input, taskContext()).catch((e: unknown) => e);

    expect(err).toBe(refused);
    expect(ml.commandCalls(StartChannelCommand)).toHaveLength(2);
  });

  it("lets throttling propagate under its own name, without a describe", async () => {
    const throttled = awsError("TooManyRequestsException", "Rate exceeded", 429);
    ml.on(StartChannelCommand).rejects(throttled);

    const err: unknown = await startChannel(input, taskContext()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("TooManyRequestsException");
    expect((err as Error).message).toBe("Rate exceeded");
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ channelId: "" }, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("channelId");
    expect(ml.calls()).toHaveLength(0);
  });
});
