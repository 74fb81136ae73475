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
import { lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const input = { channelId: "1234567" };

describe("stop-channel", () => {
  beforeEach(() => {
    ml.reset();
    useTestEnv();
  });

  it("stops a RUNNING channel", async () => {
    // Prepare
    ml.on(DescribeChannelCommand).resolves({ State: "RUNNING" });
    ml.on(StopChannelCommand).resolves({ State: "STOPPING" });

    // Act
    const out = await stopChannel(input, taskContext());

    // Assess
    expect(out).toEqual({ stopped: true, state: "STOPPING" });
    expect(ml.commandCalls(StopChannelCommand).map((c) => c.args[0].input)).toEqual([
      { ChannelId: "1234567" },
    ]);
  });

  it.each(["IDLE", "STOPPING"] as const)("sends nothing when the channel is already %s", async (state) => {
    ml.on(DescribeChannelCommand).resolves({ State: state });

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state });
    expect(ml.commandCalls(StopChannelCommand)).toHaveLength(0);
  });

  it("fails with ChannelNotReady while the channel is STARTING", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "STARTING" });

    await expect(stopChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotReady,
    });
    expect(ml.commandCalls(StopChannelCommand)).toHaveLength(0);
  });

  it("reports DELETED when the channel disappears before the stop", async () => {
    ml.on(DescribeChannelCommand).resolves({ State: "RUNNING" });
    ml.on(StopChannelCommand).rejects(new NotFoundException({ message: "gone", $metadata: {} }));

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state: "DELETED" });
  });

  it("reports DELETED without stopping when DescribeChannel answers NotFound", async () => {
    ml.on(DescribeChannelCommand).rejects(new NotFoundException({ message: "gone", $metadata: {} }));

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state: "DELETED" });
    expect(ml.commandCalls(StopChannelCommand)).toHaveLength(0);
  });

  it("treats a Conflict as done when the channel is meanwhile STOPPING", async () => {
    ml.on(DescribeChannelCommand).resolvesOnce({ State: "RUNNING" }).resolves({ State: "STOPPING" });
    ml.on(StopChannelCommand).rejects(new ConflictException({ message: "conflict", $metadata: {} }));

    const out = await stopChannel(input, taskContext());

    expect(out).toEqual({ stopped: false, state: "STOPPING" });
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({}, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("channelId");
    expect(ml.calls()).toHaveLength(0);
  });
});
