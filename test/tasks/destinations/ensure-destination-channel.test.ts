import { randomUUID } from "node:crypto";
import {
  CreateChannelCommand,
  DescribeInputCommand,
  ListChannelsCommand,
  MediaLiveClient,
} from "@aws-sdk/client-medialive";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DestinationTags } from "#lib/destinations/model.ts";
import { TaskErrors } from "#lib/errors.ts";
import { ensureDestinationChannel } from "#tasks/destinations/ensure-destination-channel.ts";
import { executionArnOf, taskContext, useTestEnv } from "#test/tasks/helpers.ts";
import { destinationItem, makeDestination } from "./helpers.ts";

const ml = mockClient(MediaLiveClient);
const ssm = mockClient(SSMClient);
const ddb = mockClient(DynamoDBDocumentClient);

const ADD_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-destination-add";
const executionName = "destination-add-d1-1";
const executionArn = executionArnOf(ADD_SM, executionName);
const input = { destinationId: "d1", executionArn, executionName };
/** Made at run time: no key-shaped literal in the code. */
const STREAM_KEY = randomUUID();
const channelArn = (id: string) => `arn:aws:medialive:us-east-1:000000000000:channel:${id}`;

/** A destination being added by this execution: its input made, no channel yet. */
function givenCreatingDestination(): void {
  const d = makeDestination({
    status: "creating",
    mediaLive: { inputId: "1234567" },
    operation: { lifecycle: "destination-add", executionArn, startedAt: "2026-01-01T00:00:00.000Z" },
  });
  ddb.on(GetCommand).resolves({ Item: destinationItem(d) });
  ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(d) });
}

describe("ensure-destination-channel", () => {
  beforeEach(() => {
    ml.reset();
    ssm.reset();
    ddb.reset();
    useTestEnv();
    givenCreatingDestination();
    ml.on(ListChannelsCommand).resolves({ Channels: [] });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: STREAM_KEY } });
    ml.on(CreateChannelCommand).resolves({ Channel: { Id: "9000001", Arn: channelArn("9000001") } });
  });

  it("fails with InputNotReady (retried after 1 s) while the new input is CREATING, and lists nothing", async () => {
    ml.on(DescribeInputCommand).resolves({ Id: "1234567", State: "CREATING" });

    await expect(ensureDestinationChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.InputNotReady,
    });
    expect(ml.commandCalls(ListChannelsCommand)).toHaveLength(0);
    expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
  });

  it.each(["DELETED", "DELETING"] as const)(
    "fails at once, not retried, when the input is %s",
    async (state) => {
      ml.on(DescribeInputCommand).resolves({ Id: "1234567", State: state });

      await expect(ensureDestinationChannel(input, taskContext())).rejects.toMatchObject({
        name: TaskErrors.ChannelNotFound,
      });
      expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
    },
  );

  it("records the channel an earlier attempt made on the input instead of creating another", async () => {
    ml.on(DescribeInputCommand).resolves({ Id: "1234567", State: "ATTACHED" });
    ml.on(ListChannelsCommand).resolves({
      Channels: [
        {
          Id: "9000007",
          Arn: channelArn("9000007"),
          State: "CREATING",
          Tags: { [DestinationTags.destinationId]: "d1" },
        },
      ],
    });

    await expect(ensureDestinationChannel(input, taskContext())).resolves.toEqual({ channelId: "9000007" });
    expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it("fails with InputNotReady while the input is still attached to a channel being deleted", async () => {
    ml.on(DescribeInputCommand).resolves({ Id: "1234567", State: "ATTACHED" });

    await expect(ensureDestinationChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.InputNotReady,
    });
    expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
  });

  it("creates the channel once the input is DETACHED, with the execution's request id", async () => {
    ml.on(DescribeInputCommand).resolves({ Id: "1234567", State: "DETACHED" });

    await expect(ensureDestinationChannel(input, taskContext())).resolves.toEqual({ channelId: "9000001" });
    const creates = ml.commandCalls(CreateChannelCommand);
    expect(creates).toHaveLength(1);
    expect(creates[0]?.args[0].input.RequestId).toBe(`${executionName}-channel`);
    expect(creates[0]?.args[0].input.InputAttachments?.map((a) => a.InputId)).toEqual(["1234567"]);
  });
});
