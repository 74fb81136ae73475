import {
  type ChannelAlert,
  type ChannelClass,
  type ChannelState,
  DescribeChannelCommand,
  ListAlertsCommand,
  MediaLiveClient,
} from "@aws-sdk/client-medialive";
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { NO_INPUT_ALERT, noInputSince } from "#lib/sessions/input-signal.ts";
import { Tags } from "#lib/sessions/model.ts";
import { recordInputSignal } from "#tasks/sessions/record-input-signal.ts";
import { awsError, TABLE, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ml = mockClient(MediaLiveClient);
const ddb = mockClient(DynamoDBDocumentClient);
const CHANNEL_ARN = "arn:aws:medialive:us-east-1:000000000000:channel:100";
const SESSION_TAGS = { [Tags.managedBy]: "castflow", [Tags.stage]: "dev", [Tags.sessionId]: "s1" };
const T0 = new Date("2026-11-30T10:00:00Z");
const T1 = new Date("2026-11-30T10:00:05Z");

const event = (alarmState: "SET" | "CLEARED", alertType = NO_INPUT_ALERT) => ({
  time: "2026-11-30T10:00:06Z",
  alarmState,
  alertType,
  channelArn: CHANNEL_ARN,
});
const noInput = (pipeline: string, at: Date, state: "SET" | "CLEARED" = "SET"): ChannelAlert => ({
  AlertType: NO_INPUT_ALERT,
  Id: `a-${pipeline}-${at.getTime()}`,
  PipelineId: pipeline,
  SetTimestamp: at,
  State: state,
});

function given(
  channel: { state?: ChannelState; class?: ChannelClass; tags?: Record<string, string> },
  alerts: ChannelAlert[],
) {
  ml.on(DescribeChannelCommand).resolves({
    State: channel.state ?? "RUNNING",
    ChannelClass: channel.class ?? "SINGLE_PIPELINE",
    Tags: channel.tags ?? SESSION_TAGS,
  });
  ml.on(ListAlertsCommand).resolves({ Alerts: alerts });
}

const puts = () => ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item);
const deletes = () => ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key);

describe("record-input-signal", () => {
  beforeEach(() => {
    useTestEnv();
    ml.reset();
    ddb.reset();
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
  });

  it("records a session channel whose every pipeline has the no-input alert SET, since the last one", async () => {
    given({ class: "STANDARD" }, [noInput("0", T0), noInput("1", T1)]);
    expect(await recordInputSignal.run(event("SET"), taskContext())).toEqual({
      outcome: "no-input",
      sessionId: "s1",
      channelId: "100",
      since: T1.toISOString(),
    });
    expect(puts()).toEqual([
      expect.objectContaining({ pk: "INPUT_SIGNAL", sk: "100", sessionId: "s1", since: T1.toISOString() }),
    ]);
    // Only SET alerts are asked for.
    expect(ml.commandCalls(ListAlertsCommand)[0]?.args[0].input).toMatchObject({
      ChannelId: "100",
      StateFilter: "SET",
    });
  });

  it("one pipeline still receiving: the channel receives, whatever the event said", async () => {
    given({ class: "STANDARD" }, [noInput("0", T0)]);
    expect(await recordInputSignal.run(event("SET"), taskContext())).toMatchObject({ outcome: "receiving" });
    expect(deletes()).toEqual([{ pk: "INPUT_SIGNAL", sk: "100" }]);
    expect(puts()).toEqual([]);
  });

  it("a late SET after the input came back writes the truth: receiving", async () => {
    given({}, []);
    expect(await recordInputSignal.run(event("SET"), taskContext())).toMatchObject({ outcome: "receiving" });
    expect(deletes()).toHaveLength(1);
  });

  it("a stopped or deleted channel clears what was recorded", async () => {
    given({ state: "IDLE" }, [noInput("0", T0)]);
    expect(await recordInputSignal.run(event("CLEARED"), taskContext())).toMatchObject({
      outcome: "receiving",
    });
    ml.reset();
    ml.on(DescribeChannelCommand).rejects(awsError("NotFoundException", "no channel", 404));
    expect(await recordInputSignal.run(event("CLEARED"), taskContext())).toMatchObject({
      outcome: "ignored",
    });
    expect(deletes()).toEqual([
      { pk: "INPUT_SIGNAL", sk: "100" },
      { pk: "INPUT_SIGNAL", sk: "100" },
    ]);
    expect(puts()).toEqual([]);
  });

  it("ignores other alert types, other stages and channels that are not a session's", async () => {
    given({}, [noInput("0", T0)]);
    expect(
      await recordInputSignal.run(event("SET", "Failed to Create Output File or Socket"), taskContext()),
    ).toMatchObject({ outcome: "ignored" });
    expect(ml.commandCalls(DescribeChannelCommand)).toHaveLength(0);
    given({ tags: { ...SESSION_TAGS, [Tags.stage]: "prod" } }, [noInput("0", T0)]);
    expect(await recordInputSignal.run(event("SET"), taskContext())).toMatchObject({ outcome: "ignored" });
    given({ tags: { [Tags.managedBy]: "castflow", [Tags.stage]: "dev" } }, [noInput("0", T0)]);
    expect(await recordInputSignal.run(event("SET"), taskContext())).toMatchObject({ outcome: "ignored" });
    expect(puts()).toEqual([]);
    expect(ddb.commandCalls(PutCommand).every((c) => c.args[0].input.TableName === TABLE)).toBe(true);
  });
});

describe("noInputSince", () => {
  it("needs a SET no-input alert on every pipeline and takes the latest", () => {
    expect(noInputSince([noInput("0", T0)], ["0"])).toEqual(T0);
    expect(noInputSince([noInput("0", T0)], ["0", "1"])).toBeUndefined();
    expect(noInputSince([noInput("0", T1), noInput("1", T0)], ["0", "1"])).toEqual(T1);
    expect(noInputSince([noInput("0", T0, "CLEARED")], ["0"])).toBeUndefined();
    expect(noInputSince([{ ...noInput("0", T0), AlertType: "Other" }], ["0"])).toBeUndefined();
  });
});
