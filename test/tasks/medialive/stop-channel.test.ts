import {
  ConflictException,
  DescribeChannelCommand,
  MediaLiveClient,
  NotFoundException,
  StopChannelCommand,
} from "@aws-sdk/client-medialive";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { handler, stopChannel } from "#tasks/medialive/stop-channel.ts";
import { awsError, lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const input = { channelId: "1234567" };
const conflict = () =>
  new ConflictException({ message: "Channel is not in a stoppable state", $metadata: {} });

describe("stop-channel", () => {
  beforeEach(() => {
    ml.reset();
    useTestEnv();
  });

  it("stops a RUNNING channel with one StopChannel and no DescribeChannel", async () => {
    // Prepare
    ml.on(StopChannelCommand, { ChannelId: "1234567" }).resolves({ State: "STOPPING" });

    // Act
    const out = await stopChannel(input, taskContext());

    // Assess
    expect(out).toEqual({ stopped: true, state: "STOPPING" });
    expect(ml.commandCalls(StopChannelCommand).map((c) => c.args[0].input)).toEqual([
      { ChannelId: "1234567" },
    ]);
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it("reports STOPPING when StopChannel answers without a state", async () => {
    ml.on(StopChannelCommand).resolves({});

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: true, state: "STOPPING" });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it("counts a StopChannel that answers IDLE as nothing stopped", async () => {
    ml.on(StopChannelCommand).resolves({ State: "IDLE" });

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state: "IDLE" });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it.each(["IDLE", "STOPPING", "DELETING", "DELETED", "CREATE_FAILED", "UPDATE_FAILED"] as const)(
    "treats a Conflict as nothing to stop when the channel is %s",
    async (state) => {
      // Prepare
      ml.on(StopChannelCommand).rejects(conflict());
      ml.on(DescribeChannelCommand, { ChannelId: "1234567" }).resolves({ State: state });

      // Act
      const out = await stopChannel(input, taskContext());

      // Assess
      expect(out).toEqual({ stopped: false, state });
      expect(ml.commandCalls(StopChannelCommand)).toHaveLength(1);
      expect(ml.commandCalls(DescribeChannelCommand).map((c) => c.args[0].input)).toEqual([
        { ChannelId: "1234567" },
      ]);
    },
  );

  it.each(["STARTING", "RUNNING", "RECOVERING", "CREATING", "UPDATING"] as const)(
    "fails with ChannelNotReady on a Conflict while the channel is %s",
    async (state) => {
      ml.on(StopChannelCommand).rejects(conflict());
      ml.on(DescribeChannelCommand).resolves({ State: state });

      await expect(stopChannel(input, taskContext())).rejects.toMatchObject({
        name: TaskErrors.ChannelNotReady,
      });
      expect(ml.commandCalls(StopChannelCommand)).toHaveLength(1);
      expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(1);
    },
  );

  it("reports DELETED, without a describe, when StopChannel answers NotFound", async () => {
    ml.on(StopChannelCommand).rejects(new NotFoundException({ message: "gone", $metadata: {} }));

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state: "DELETED" });
    expect(ml.commandCalls(StopChannelCommand)).toHaveLength(1);
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it("reports DELETED when the channel vanishes between the Conflict and the describe", async () => {
    ml.on(StopChannelCommand).rejects(conflict());
    ml.on(DescribeChannelCommand).rejects(new NotFoundException({ message: "gone", $metadata: {} }));

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state: "DELETED" });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(1);
  });

  it("takes a 400 for an IDLE channel as nothing to stop", async () => {
    ml.on(StopChannelCommand).rejects(awsError("BadRequestException", "Channel is not running", 400));
    ml.on(DescribeChannelCommand).resolves({ State: "IDLE" });

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state: "IDLE" });
  });
  it("lets throttling propagate under its own name, without a describe", async () => {
    const throttled = awsError("TooManyRequestsException", "Rate exceeded", 429);
    ml.on(StopChannelCommand).rejects(throttled);

    const err: unknown = await stopChannel(input, taskContext()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("TooManyRequestsException");
    expect((err as Error).message).toBe("Rate exceeded");
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({}, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("channelId");
    expect(ml.calls()).toHaveLength(0);
  });
});
