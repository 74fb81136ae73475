import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { releaseFlow } from "#tasks/destinations/release-flow.ts";
import { decodeUpdates, taskContext, useTestEnv } from "#test/tasks/helpers.ts";
import { FLOW_ARN, makeSource, sourceItem } from "./helpers.ts";

// client-mediaconnect is pinned to an older SDK release than aws-sdk-client-mock's types: mock
// castflow's MediaConnect module instead of the client.
const stopFlow = vi.hoisted(() => vi.fn(async () => "STOPPING"));
const flowStatus = vi.hoisted(() => vi.fn(async () => "ACTIVE"));
vi.mock("#lib/aws/mediaconnect.ts", () => ({ stopFlow, flowStatus }));

const ddb = mockClient(DynamoDBDocumentClient);
const input = { sourceId: "src1", destinationId: "d1" };

describe("release-flow", () => {
  beforeEach(() => {
    ddb.reset();
    stopFlow.mockClear();
    flowStatus.mockClear();
    flowStatus.mockResolvedValue("ACTIVE");
    useTestEnv();
    ddb.on(GetCommand).resolves({ Item: sourceItem(makeSource({ flowUsers: { d1: "t" } })) });
  });

  it("the last user out decides to stop the flow in one conditional write, then stops it", async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: sourceItem(makeSource()) });
    expect(await releaseFlow(input, taskContext())).toEqual({ stopped: true });
    const [remove, decide] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(remove?.remove).toEqual(["flowUsers.d1"]);
    expect(decide?.set).toMatchObject({ flowPhase: "stopping" });
    expect(decide?.condition).toContain("size(flowUsers) = 0");
    expect(stopFlow).toHaveBeenCalledWith(FLOW_ARN, expect.anything());
  });

  it("leaves the flow running when another destination still uses it", async () => {
    ddb
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: sourceItem(makeSource({ flowUsers: { d2: "t" } })) })
      .rejects(new ConditionalCheckFailedException({ message: "users left", $metadata: {} }));
    expect(await releaseFlow(input, taskContext())).toEqual({ stopped: false });
    expect(stopFlow).not.toHaveBeenCalled();
  });

  it("a re-run of a release that decided to stop finishes the stop, even after another destination acquired the flow", async () => {
    ddb.reset();
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: sourceItem(makeSource({ flowUsers: {} })) })
      .resolves({
        Item: sourceItem(makeSource({ flowUsers: { d2: "t" }, flowPhase: "stopping", flowPhaseBy: "d1" })),
      });
    ddb
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: sourceItem(makeSource({ flowUsers: { d2: "t" } })) })
      .rejects(new ConditionalCheckFailedException({ message: "users", $metadata: {} }));
    expect(await releaseFlow(input, taskContext())).toEqual({ stopped: true });
    expect(stopFlow).toHaveBeenCalledTimes(1);
  });

  it("a flow STARTING again for a destination that acquired it since the decision is left to it; one nobody uses is stopped once ACTIVE", async () => {
    flowStatus.mockResolvedValue("STARTING");
    ddb.on(UpdateCommand).resolves({ Attributes: sourceItem(makeSource()) });
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: sourceItem(makeSource({ flowUsers: { d1: "t" } })) })
      .resolves({ Item: sourceItem(makeSource({ flowUsers: { d2: "t" }, flowPhase: "active" })) });
    expect(await releaseFlow(input, taskContext())).toEqual({ stopped: false });
    expect(stopFlow).not.toHaveBeenCalled();

    ddb.on(GetCommand).resolves({ Item: sourceItem(makeSource({ flowUsers: {} })) });
    await expect(releaseFlow(input, taskContext())).rejects.toMatchObject({ name: "FlowNotReady" });
    expect(stopFlow).not.toHaveBeenCalled();
  });
});
