import { randomUUID } from "node:crypto";
import {
  CreateChannelCommand,
  DescribeInputCommand,
  ListChannelsCommand,
  MediaLiveClient,
} from "@aws-sdk/client-medialive";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { writeSharedChannel } from "#tasks/shared/write-shared-channel.ts";
import { executionArnOf, taskContext, useTestEnv } from "#test/tasks/helpers.ts";
import { destinationItem, makeDestination, makeSource, sourceItem } from "../destinations/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ssm = mockClient(SSMClient);
const ddb = mockClient(DynamoDBDocumentClient);

const APPLY_SM = "arn:aws:states:us-east-1:000000000000:stateMachine:castflow-dev-shared-channel-apply";
const executionName = "shared-channel-apply-src1-1";
const executionArn = executionArnOf(APPLY_SM, executionName);
const input = { sourceId: "src1", executionArn, executionName, iteration: 0 };

describe("write-shared-channel, creating the channel on the input this apply made", () => {
  beforeEach(() => {
    ml.reset();
    ssm.reset();
    ddb.reset();
    useTestEnv();
    const source = makeSource({
      deliveryMode: "shared",
      shared: {
        input: { inputId: "1234567", type: "MEDIACONNECT", endpoints: [] },
        outputs: {},
        requested: 1,
        apply: { executionArn, startedAt: "2026-01-01T00:00:00.000Z" },
      },
    });
    const wanting = makeDestination({ deliveryMode: "shared", status: "starting", wanted: "running" });
    ddb.on(GetCommand).resolves({ Item: sourceItem(source) });
    ddb.on(QueryCommand).resolves({ Items: [destinationItem(wanting)] });
    ddb.on(UpdateCommand).resolves({ Attributes: sourceItem(source) });
    ml.on(ListChannelsCommand).resolves({ Channels: [] });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: randomUUID() } });
    ml.on(CreateChannelCommand).resolves({
      Channel: { Id: "9000001", Arn: "arn:aws:medialive:us-east-1:000000000000:channel:9000001" },
    });
  });

  it("fails with InputNotReady (retried after 1 s) while the input is CREATING, creating nothing", async () => {
    ml.on(DescribeInputCommand).resolves({ Id: "1234567", State: "CREATING" });

    await expect(writeSharedChannel(input, taskContext())).rejects.toMatchObject({
      name: TaskErrors.InputNotReady,
    });
    expect(ml.commandCalls(CreateChannelCommand)).toHaveLength(0);
  });

  it("creates the channel once the input is DETACHED", async () => {
    ml.on(DescribeInputCommand).resolves({ Id: "1234567", State: "DETACHED" });

    await expect(writeSharedChannel(input, taskContext())).resolves.toEqual({ channelId: "9000001" });
    const creates = ml.commandCalls(CreateChannelCommand);
    expect(creates).toHaveLength(1);
    expect(creates[0]?.args[0].input.InputAttachments?.map((a) => a.InputId)).toEqual(["1234567"]);
  });
});
