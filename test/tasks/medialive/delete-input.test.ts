import {
  ConflictException,
  DeleteInputCommand,
  DescribeInputCommand,
  MediaLiveClient,
  NotFoundException,
} from "@aws-sdk/client-medialive";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { deleteInput, handler } from "#tasks/medialive/delete-input.ts";
import { lambdaContext, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const input = { inputId: "7654321" };
const conflict = () => new ConflictException({ message: "Input cannot be deleted", $metadata: {} });

describe("delete-input", () => {
  beforeEach(() => {
    ml.reset();
    useTestEnv();
  });

  it("deletes the input", async () => {
    // Prepare
    ml.on(DeleteInputCommand).resolves({});

    // Act
    const out = await deleteInput(input, taskContext());

    // Assess
    expect(out).toEqual({ deleted: true });
    expect(ml.commandCalls(DeleteInputCommand)[0]?.args[0].input).toEqual({ InputId: "7654321" });
  });

  it("counts an input MediaLive no longer knows as not deleted (idempotent)", async () => {
    ml.on(DeleteInputCommand).rejects(new NotFoundException({ message: "not found", $metadata: {} }));

    await expect(deleteInput(input, taskContext())).resolves.toEqual({ deleted: false });
  });

  it("fails with ChannelNotReady on a Conflict while the input is attached to a RUNNING channel", async () => {
    ml.on(DeleteInputCommand).rejects(conflict());
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "ATTACHED", AttachedChannels: ["1234567"] });

    await expect(deleteInput(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.ChannelNotReady,
    });
  });

  // A retried compensation whose first DeleteInput went through (answer lost) finds the input
  // DELETING: that is done, as delete-channel already treats it, not a retry until the budget ends.
  it("counts a Conflict while the input is already DELETING as done", async () => {
    ml.on(DeleteInputCommand).rejects(conflict());
    ml.on(DescribeInputCommand).resolves({ Id: "7654321", State: "DELETING" });

    await expect(deleteInput(input, taskContext())).resolves.toEqual({ deleted: false });
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ channelId: "x" }, lambdaContext).catch((e: unknown) => e);

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("inputId");
    expect(ml.calls()).toHaveLength(0);
  });
});
