import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { claimDestination } from "#tasks/destinations/claim-destination.ts";
import { awsError, decodeUpdates, executionArnOf, useTestEnv } from "#test/tasks/helpers.ts";
import { DEST_START_SM, destinationItem, makeDestination } from "./helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const me = executionArnOf(DEST_START_SM, "destination-start-d1-2");
const other = executionArnOf(DEST_START_SM, "destination-start-d1-1");
const input = { destinationId: "d1", executionArn: me, lifecycle: "destination-start" } as const;

describe("claim-destination", () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    useTestEnv();
  });

  it("moves an idle destination to starting, owned by this execution, at the version it read", async () => {
    ddb.on(GetCommand).resolves({ Item: destinationItem(makeDestination()) });
    ddb.on(UpdateCommand).resolves({
      Attributes: destinationItem(
        makeDestination({
          status: "starting",
          operation: { lifecycle: "destination-start", executionArn: me, startedAt: "x" },
        }),
      ),
    });
    const out = await claimDestination(input);
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({
      status: "starting",
      operation: expect.objectContaining({ executionArn: me }),
    });
    expect(update?.condition).toContain("version = 3");
    expect(out).toEqual({
      alreadyDone: false,
      previous: "idle",
      wasRunning: false,
      sourceId: "src1",
      channelId: "7654321",
      inputId: "1234567",
    });
  });

  it("answers already done for a running destination and writes nothing", async () => {
    ddb.on(GetCommand).resolves({ Item: destinationItem(makeDestination({ status: "running" })) });
    expect((await claimDestination(input)).alreadyDone).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("refuses a destination another running execution holds", async () => {
    ddb.on(GetCommand).resolves({
      Item: destinationItem(
        makeDestination({
          status: "stopping",
          operation: { lifecycle: "destination-stop", executionArn: other, startedAt: "x" },
        }),
      ),
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
    await expect(claimDestination(input)).rejects.toMatchObject({ name: TaskErrors.DestinationBusy });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("takes over a destination whose owning execution closed long ago", async () => {
    ddb.on(GetCommand).resolves({
      Item: destinationItem(
        makeDestination({
          status: "stopping",
          operation: { lifecycle: "destination-stop", executionArn: other, startedAt: "x" },
        }),
      ),
    });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: "ABORTED", stopDate: new Date(Date.now() - 3_600_000) });
    ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(makeDestination({ status: "starting" })) });
    expect((await claimDestination(input)).alreadyDone).toBe(false);
    expect(decodeUpdates(ddb.commandCalls(UpdateCommand))[0]?.set.status).toBe("starting");
  });

  it("reads again when another write changed the version, and claims", async () => {
    ddb.on(GetCommand).resolves({ Item: destinationItem(makeDestination()) });
    const { ConditionalCheckFailedException } = await import("@aws-sdk/client-dynamodb");
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: "changed", $metadata: {} }))
      .resolves({ Attributes: destinationItem(makeDestination({ status: "starting" })) });
    expect((await claimDestination(input)).alreadyDone).toBe(false);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  it("does not let add claim a destination that is not being created", async () => {
    ddb.on(GetCommand).resolves({ Item: destinationItem(makeDestination({ status: "error" })) });
    await expect(claimDestination({ ...input, lifecycle: "destination-add" })).rejects.toMatchObject({
      name: TaskErrors.DestinationBusy,
    });
  });

  // The API names the add before starting it; if the API died in between, the add never exists.
  const unstartedAdd = (startedAt: string) =>
    destinationItem(
      makeDestination({
        status: "creating",
        operation: {
          lifecycle: "destination-add",
          executionArn: executionArnOf(DEST_START_SM, "destination-add-d1-1"),
          startedAt,
        },
      }),
    );

  it("lets delete take a creating record whose named add never started, once its start had ample time", async () => {
    ddb.on(GetCommand).resolves({ Item: unstartedAdd(new Date(Date.now() - 10 * 60_000).toISOString()) });
    sfn.on(DescribeExecutionCommand).rejects(awsError("ExecutionDoesNotExist"));
    ddb.on(UpdateCommand).resolves({ Attributes: destinationItem(makeDestination({ status: "deleting" })) });
    const out = await claimDestination({ ...input, lifecycle: "destination-delete" });
    expect(out.previous).toBe("creating");
    expect(decodeUpdates(ddb.commandCalls(UpdateCommand))[0]?.set.status).toBe("deleting");
  });

  it("waits (TakeoverPending, retried) while a named add may still be about to start", async () => {
    ddb.on(GetCommand).resolves({ Item: unstartedAdd(new Date().toISOString()) });
    sfn.on(DescribeExecutionCommand).rejects(awsError("ExecutionDoesNotExist"));
    await expect(claimDestination({ ...input, lifecycle: "destination-delete" })).rejects.toMatchObject({
      name: TaskErrors.TakeoverPending,
    });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
