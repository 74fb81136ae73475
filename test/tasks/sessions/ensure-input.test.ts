import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  CreateInputCommand,
  CreateInputSecurityGroupCommand,
  DescribeInputCommand,
  DescribeInputSecurityGroupCommand,
  ListInputSecurityGroupsCommand,
  ListInputsCommand,
  MediaLiveClient,
} from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskErrors } from "#lib/errors.ts";
import { Tags } from "#lib/sessions/model.ts";
import { ensureInput, handler } from "#tasks/sessions/ensure-input.ts";
import {
  awsError,
  decodeUpdates,
  executionArnOf,
  GO_LIVE_SM,
  item,
  lambdaContext,
  makeSession,
  taskContext,
  useTestEnv,
} from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ddb = mockClient(DynamoDBDocumentClient);

const executionName = "go-live-s1-1";
const executionArn = executionArnOf(GO_LIVE_SM, executionName);
const baseInput = { sessionId: "s1", executionArn, executionName, inputId: null };
const sharedGroupTags = { [Tags.managedBy]: "castflow", [Tags.stage]: "dev", [Tags.role]: "session-ingest" };
const createdInput = {
  Id: "7654321",
  State: "CREATING" as const,
  Destinations: [{ Url: "rtmp://203.0.113.10:1935/castflow/s1", Ip: "203.0.113.10", Port: "1935" }],
  Tags: { [Tags.sessionId]: "s1", [Tags.createdBy]: executionName },
};

describe("ensure-input", () => {
  beforeEach(() => {
    ml.reset();
    ddb.reset();
    useTestEnv();
    ddb.on(UpdateCommand).resolves({
      Attributes: item(makeSession({ streaming: { status: "starting", executionArn, attempt: 1 } })),
    });
    ml.on(ListInputsCommand).resolves({ Inputs: [] });
    ml.on(CreateInputCommand).resolves({ Input: createdInput });
    // No group recorded yet; the creation lease is free.
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
  });

  it("creates an RTMP_PUSH input in the shared security group found by tag", async () => {
    // Prepare
    ml.on(ListInputSecurityGroupsCommand).resolves({
      InputSecurityGroups: [
        { Id: "sg-other", State: "IDLE", Tags: { [Tags.managedBy]: "castflow" } },
        { Id: "sg-shared", State: "IN_USE", Tags: sharedGroupTags },
      ],
    });

    // Act
    const out = await ensureInput(baseInput, taskContext());

    // Assess
    expect(ml.commandCalls(CreateInputSecurityGroupCommand)).toHaveLength(0);
    const creates = ml.commandCalls(CreateInputCommand);
    expect(creates).toHaveLength(1);
    const req = creates[0]?.args[0].input;
    expect(req?.Type).toBe("RTMP_PUSH");
    expect(req?.RequestId).toBe(`${executionName}-input`);
    expect(req?.InputSecurityGroups).toEqual(["sg-shared"]);
    expect(req?.Tags).toMatchObject({ [Tags.sessionId]: "s1", [Tags.createdBy]: executionName });
    expect(out).toEqual({ inputId: "7654321", inputSecurityGroupId: "sg-shared", created: true });
  });

  it("records the input and its RTMP endpoint split at the last '/', owned by this execution", async () => {
    ml.on(ListInputSecurityGroupsCommand).resolves({
      InputSecurityGroups: [{ Id: "sg-shared", State: "IDLE", Tags: sharedGroupTags }],
    });

    await ensureInput(baseInput, taskContext());

    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({
      "mediaLive.inputIds.host": "7654321",
      "mediaLive.inputSecurityGroupId": "sg-shared",
      "mediaLive.rtmpEndpoints.host": [{ url: "rtmp://203.0.113.10:1935/castflow", streamName: "s1" }],
    });
    expect(update?.condition).toContain('streaming.status = "starting"');
    expect(update?.condition).toContain(`streaming.executionArn = ${JSON.stringify(executionArn)}`);
  });

  it("creates the shared security group once when none is tagged", async () => {
    ml.on(ListInputSecurityGroupsCommand).resolves({
      InputSecurityGroups: [{ Id: "sg-deleted", State: "DELETED", Tags: sharedGroupTags }],
    });
    ml.on(CreateInputSecurityGroupCommand).resolves({ SecurityGroup: { Id: "sg-new" } });

    const out = await ensureInput(baseInput, taskContext());

    const groups = ml.commandCalls(CreateInputSecurityGroupCommand);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.args[0].input.Tags).toEqual({ ...sharedGroupTags, [Tags.createdBy]: executionName });
    expect(groups[0]?.args[0].input.WhitelistRules).toEqual([{ Cidr: "0.0.0.0/0" }]);
    expect(ml.commandCalls(CreateInputCommand)[0]?.args[0].input.InputSecurityGroups).toEqual(["sg-new"]);
    expect(out.inputSecurityGroupId).toBe("sg-new");
  });

  it("creates the group only after winning its creation lease, and records its id", async () => {
    ml.on(ListInputSecurityGroupsCommand).resolves({ InputSecurityGroups: [] });
    ml.on(CreateInputSecurityGroupCommand).resolves({ SecurityGroup: { Id: "sg-new" } });

    await ensureInput(baseInput, taskContext());

    const [lease, recorded] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(lease?.Item).toMatchObject({ creator: executionName });
    expect(lease?.ConditionExpression).toContain("attribute_not_exists(pk)");
    expect(recorded?.Item).toMatchObject({ id: "sg-new" });
  });

  it("waits (SharedResourcePending) while another go-live holds the creation lease: never a second group", async () => {
    ml.on(ListInputSecurityGroupsCommand).resolves({ InputSecurityGroups: [] });
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: "held", $metadata: {} }));

    await expect(ensureInput(baseInput, taskContext())).rejects.toMatchObject({
      name: TaskErrors.SharedResourcePending,
    });
    expect(ml.commandCalls(CreateInputSecurityGroupCommand)).toHaveLength(0);
    expect(ml.commandCalls(CreateInputCommand)).toHaveLength(0);
  });

  it("creates the input in the recorded group without asking MediaLive about the group", async () => {
    ddb.on(GetCommand).resolves({ Item: { id: "sg-recorded" } });

    const out = await ensureInput(baseInput, taskContext());

    expect(out.inputSecurityGroupId).toBe("sg-recorded");
    expect(ml.commandCalls(CreateInputCommand)[0]?.args[0].input.InputSecurityGroups).toEqual([
      "sg-recorded",
    ]);
    expect(ml.commandCalls(DescribeInputSecurityGroupCommand)).toHaveLength(0);
    expect(ml.commandCalls(ListInputSecurityGroupsCommand)).toHaveLength(0);
  });

  it("makes a new group when the recorded one was deleted and CreateInput refuses it, then creates the input", async () => {
    ddb.on(GetCommand).resolves({ Item: { id: "sg-deleted" } });
    ml.on(CreateInputCommand, { InputSecurityGroups: ["sg-deleted"] }).rejects(
      awsError("BadRequestException", "Input security group 'sg-deleted' not found", 400),
    );
    ml.on(CreateInputCommand, { InputSecurityGroups: ["sg-new"] }).resolves({ Input: createdInput });
    ml.on(DescribeInputSecurityGroupCommand).rejects(awsError("NotFoundException", "not found", 404));
    ml.on(ListInputSecurityGroupsCommand).resolves({ InputSecurityGroups: [] });
    ml.on(CreateInputSecurityGroupCommand).resolves({ SecurityGroup: { Id: "sg-new" } });

    const out = await ensureInput(baseInput, taskContext());

    expect(out).toEqual({ inputId: "7654321", inputSecurityGroupId: "sg-new", created: true });
    expect(ml.commandCalls(CreateInputCommand)).toHaveLength(2);
    expect(ml.commandCalls(CreateInputSecurityGroupCommand)).toHaveLength(1);
  });

  it("passes on CreateInput's refusal when the recorded group still exists: the input itself was refused", async () => {
    ddb.on(GetCommand).resolves({ Item: { id: "sg-recorded" } });
    const refused = awsError("UnprocessableEntityException", "Invalid destination", 422);
    ml.on(CreateInputCommand).rejects(refused);
    ml.on(DescribeInputSecurityGroupCommand, { InputSecurityGroupId: "sg-recorded" }).resolves({
      Id: "sg-recorded",
      State: "IN_USE",
    });

    const err: unknown = await ensureInput(baseInput, taskContext()).catch((e: unknown) => e);

    expect(err).toBe(refused);
    expect(ml.commandCalls(CreateInputCommand)).toHaveLength(1);
    expect(ml.commandCalls(CreateInputSecurityGroupCommand)).toHaveLength(0);
  });

  it("reuses the recorded input when it still exists", async () => {
    ml.on(DescribeInputCommand, { InputId: "1112223" }).resolves({
      Id: "1112223",
      State: "DETACHED",
      Destinations: [{ Url: "rtmp://203.0.113.20:1935/castflow/s1" }],
      Tags: { [Tags.sessionId]: "s1", [Tags.createdBy]: "go-live-s1-0" },
    });
    ml.on(ListInputSecurityGroupsCommand).resolves({
      InputSecurityGroups: [{ Id: "sg-shared", State: "IN_USE", Tags: sharedGroupTags }],
    });

    const out = await ensureInput({ ...baseInput, inputId: "1112223" }, taskContext());

    expect(out).toEqual({ inputId: "1112223", inputSecurityGroupId: "sg-shared", created: false });
    expect(ml.commandCalls(CreateInputCommand)).toHaveLength(0);
    expect(ml.commandCalls(ListInputsCommand)).toHaveLength(0);
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({
      "mediaLive.inputIds.host": "1112223",
      "mediaLive.rtmpEndpoints.host": [{ url: "rtmp://203.0.113.20:1935/castflow", streamName: "s1" }],
    });
  });

  it("keeps a reused input's own security group: no call about the shared group", async () => {
    ml.on(DescribeInputCommand, { InputId: "1112223" }).resolves({
      Id: "1112223",
      State: "DETACHED",
      SecurityGroups: ["sg-its-own"],
      Destinations: [{ Url: "rtmp://203.0.113.20:1935/castflow/s1" }],
      Tags: { [Tags.sessionId]: "s1", [Tags.createdBy]: "go-live-s1-0" },
    });

    const out = await ensureInput({ ...baseInput, inputId: "1112223" }, taskContext());

    expect(out).toEqual({ inputId: "1112223", inputSecurityGroupId: "sg-its-own", created: false });
    expect(ml.commandCalls(DescribeInputSecurityGroupCommand)).toHaveLength(0);
    expect(ml.commandCalls(ListInputSecurityGroupsCommand)).toHaveLength(0);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set).toMatchObject({ "mediaLive.inputSecurityGroupId": "sg-its-own" });
  });

  it("handler: bad input fails with InvalidTaskInput naming the field", async () => {
    const err: unknown = await handler({ ...baseInput, executionName: "" }, lambdaContext).catch(
      (e: unknown) => e,
    );

    expect((err as Error).name).toBe(TaskErrors.InvalidTaskInput);
    expect((err as Error).message).toContain("executionName");
    expect(ml.calls()).toHaveLength(0);
  });
});
