import {
  CreateChannelCommand,
  CreateInputCommand,
  CreateInputSecurityGroupCommand,
  CreateTagsCommand,
  DeleteChannelCommand,
  DeleteInputCommand,
  DeleteInputSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeChannelCommand,
  DescribeInputCommand,
  DescribeInputSecurityGroupCommand,
  ListChannelsCommand,
  ListInputsCommand,
  ListTagsForResourceCommand,
  StartChannelCommand,
  StopChannelCommand,
  UnprocessableEntityException,
  UpdateChannelCommand,
} from "@aws-sdk/client-medialive";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "#local/simulator/index.ts";
import {
  admin,
  channelInput,
  clients,
  encoderSettings,
  expectAwsError,
  rtmpDestination,
  until,
} from "./helpers.ts";

let sim: Simulator;
let ml: ReturnType<typeof clients>["ml"];

/**
 * The simulator's answer to a create beyond a default quota (us-east-1). Name and status follow the
 * MediaLive service model (429 TooManyRequestsException, "Limit exceeded"); the wording is the
 * simulator's own (unverified against AWS, see local/simulator/medialive/errors.ts).
 */
const QUOTA_MESSAGES = {
  channels:
    'Limit exceeded: this account has reached its quota of 5 channels in us-east-1 (MediaLive service quota "Channels"). Delete unused channels or request a quota increase.',
  pushInputs:
    'Limit exceeded: this account has reached its quota of 5 push inputs in us-east-1 (MediaLive service quota "Inputs of type push (not including VPC push inputs)"). Delete unused push inputs or request a quota increase.',
  inputSecurityGroups:
    'Limit exceeded: this account has reached its quota of 5 input security groups in us-east-1 (MediaLive service quota "Input security groups"). Delete unused input security groups or request a quota increase.',
};

beforeAll(async () => {
  // 0.002: CREATING 20 ms, STARTING 150 ms, STOPPING 60 ms, DELETING 40 ms, DELETED kept 1.2 s.
  sim = await startSimulator({ timeScale: 0.002 });
  ml = clients(sim.url).ml;
});
afterAll(async () => {
  ml.destroy();
  await sim.close();
});
beforeEach(async () => {
  await admin(sim.url, "POST", "/_sim/reset");
});

async function pushInput(destinations = 1, extra: Record<string, unknown> = {}) {
  const res = await ml.send(
    new CreateInputCommand({
      Name: "in",
      Type: "RTMP_PUSH",
      Destinations: Array.from({ length: destinations }, (_, i) => ({ StreamName: `live/cam${i}` })),
      ...extra,
    }),
  );
  const id = res.Input?.Id ?? "";
  await until(
    () => ml.send(new DescribeInputCommand({ InputId: id })),
    (i) => i.State === "DETACHED",
  );
  return id;
}
const describe_ = (id: string) => ml.send(new DescribeChannelCommand({ ChannelId: id }));
const stateIs = (s: string) => (c: { State?: string | undefined }) => c.State === s;

async function idleChannel(overrides = {}) {
  const inputId = await pushInput();
  const created = await ml.send(new CreateChannelCommand(channelInput(inputId, overrides)));
  const id = created.Channel?.Id ?? "";
  await until(() => describe_(id), stateIs("IDLE"));
  return { id, inputId, created };
}
async function runningChannel(overrides = {}) {
  const c = await idleChannel(overrides);
  await ml.send(new StartChannelCommand({ ChannelId: c.id }));
  await until(() => describe_(c.id), stateIs("RUNNING"));
  return c;
}

describe("MediaLive channel lifecycle", () => {
  it("moves CREATING -> IDLE -> STARTING -> RUNNING -> STOPPING -> IDLE -> DELETING -> DELETED -> gone", async () => {
    const inputId = await pushInput();
    const created = await ml.send(new CreateChannelCommand(channelInput(inputId)));
    expect(created.Channel?.State).toBe("CREATING");
    expect(created.Channel?.Arn).toMatch(/^arn:aws:medialive:us-east-1:000000000000:channel:\d+$/);
    const id = created.Channel?.Id ?? "";
    await until(() => describe_(id), stateIs("IDLE"));

    const started = await ml.send(new StartChannelCommand({ ChannelId: id }));
    expect(started.State).toBe("STARTING");
    expect((await describe_(id)).PipelinesRunningCount).toBe(0);
    const running = await until(() => describe_(id), stateIs("RUNNING"));
    expect(running.PipelinesRunningCount).toBe(1);

    expect((await ml.send(new StopChannelCommand({ ChannelId: id }))).State).toBe("STOPPING");
    const stopped = await until(() => describe_(id), stateIs("IDLE"));
    expect(stopped.PipelinesRunningCount).toBe(0);

    expect((await ml.send(new DeleteChannelCommand({ ChannelId: id }))).State).toBe("DELETING");
    await until(() => describe_(id), stateIs("DELETED"));
    expect(sim.resources().medialive.channels.find((c) => c.id === id)?.state).toBe("DELETED");
    await until(
      () =>
        describe_(id).then(
          () => "exists",
          (e: Error) => e.name,
        ),
      (r) => r === "NotFoundException",
      3000,
    );
  });

  it("counts two running pipelines for a STANDARD channel", async () => {
    const { id } = await runningChannel({ ChannelClass: "STANDARD", Destinations: [rtmpDestination(2)] });
    const c = await describe_(id);
    expect(c.ChannelClass).toBe("STANDARD");
    expect(c.PipelinesRunningCount).toBe(2);
    expect(c.PipelineDetails).toHaveLength(2);
  });

  it("round-trips EncoderSettings, destinations and tags unchanged", async () => {
    const { id } = await idleChannel();
    const c = await describe_(id);
    expect(c.EncoderSettings).toEqual(encoderSettings());
    expect(c.Destinations).toEqual([rtmpDestination(1)]);
    expect(c.Tags).toEqual({ castflow: "test" });
    expect(c.InputAttachments?.[0]?.InputAttachmentName).toBe("main");
  });

  it("refuses to delete a running channel with ConflictException 409", async () => {
    const { id } = await runningChannel();
    const e = await expectAwsError(
      ml.send(new DeleteChannelCommand({ ChannelId: id })),
      "ConflictException",
      409,
    );
    expect(e.message).toContain("Cannot delete a channel that has not been stopped yet");
    expect((await describe_(id)).State).toBe("RUNNING");
  });

  it("refuses to start a channel still being created with BadRequestException 400", async () => {
    const inputId = await pushInput();
    const created = await ml.send(new CreateChannelCommand(channelInput(inputId)));
    expect(created.Channel?.State).toBe("CREATING");
    await expectAwsError(
      ml.send(new StartChannelCommand({ ChannelId: created.Channel?.Id ?? "" })),
      "BadRequestException",
      400,
    );
  });

  it("refuses to start a running or starting channel with ConflictException 409", async () => {
    const { id } = await idleChannel();
    await ml.send(new StartChannelCommand({ ChannelId: id }));
    await expectAwsError(ml.send(new StartChannelCommand({ ChannelId: id })), "ConflictException", 409);
    await until(() => describe_(id), stateIs("RUNNING"));
    await expectAwsError(ml.send(new StartChannelCommand({ ChannelId: id })), "ConflictException", 409);
  });

  it("refuses to stop an idle or starting channel with ConflictException 409", async () => {
    const { id } = await idleChannel();
    await expectAwsError(ml.send(new StopChannelCommand({ ChannelId: id })), "ConflictException", 409);
    await ml.send(new StartChannelCommand({ ChannelId: id }));
    await expectAwsError(ml.send(new StopChannelCommand({ ChannelId: id })), "ConflictException", 409);
  });

  it("answers NotFoundException 404 for unknown ids", async () => {
    await expectAwsError(describe_("9999999"), "NotFoundException", 404);
    await expectAwsError(
      ml.send(new StartChannelCommand({ ChannelId: "9999999" })),
      "NotFoundException",
      404,
    );
    await expectAwsError(ml.send(new DescribeInputCommand({ InputId: "9999999" })), "NotFoundException", 404);
  });
});

describe("MediaLive UpdateChannel", () => {
  it("updates an IDLE channel through UPDATING back to IDLE", async () => {
    const { id, inputId } = await idleChannel();
    const res = await ml.send(
      new UpdateChannelCommand({
        ChannelId: id,
        Name: "renamed",
        InputAttachments: [{ InputId: inputId, InputAttachmentName: "main" }],
      }),
    );
    expect(res.Channel?.State).toBe("UPDATING");
    const c = await until(() => describe_(id), stateIs("IDLE"));
    expect(c.Name).toBe("renamed");
  });

  it("refuses an update unless the channel is IDLE (ConflictException 409)", async () => {
    const { id } = await runningChannel();
    await expectAwsError(
      ml.send(new UpdateChannelCommand({ ChannelId: id, Name: "x" })),
      "ConflictException",
      409,
    );
  });

  it("refuses to change the input attachment (422)", async () => {
    const { id } = await idleChannel();
    const other = await pushInput();
    await expectAwsError(
      ml.send(
        new UpdateChannelCommand({
          ChannelId: id,
          InputAttachments: [{ InputId: other, InputAttachmentName: "b" }],
        }),
      ),
      "UnprocessableEntityException",
      422,
    );
  });
});

describe("MediaLive validation", () => {
  it("rejects a STANDARD channel with one destination setting: 422 with validationErrors", async () => {
    const inputId = await pushInput();
    const e = await expectAwsError(
      ml.send(new CreateChannelCommand(channelInput(inputId, { ChannelClass: undefined }))),
      "UnprocessableEntityException",
      422,
    );
    expect(e).toBeInstanceOf(UnprocessableEntityException);
    const errors = (e as UnprocessableEntityException).ValidationErrors ?? [];
    expect(errors.map((v) => v.ElementPath)).toContain("/destinations/0/settings");
    expect(sim.resources().medialive.channels).toHaveLength(0);
  });

  it("rejects a SINGLE_PIPELINE channel with two destination settings", async () => {
    const inputId = await pushInput();
    await expectAwsError(
      ml.send(new CreateChannelCommand(channelInput(inputId, { Destinations: [rtmpDestination(2)] }))),
      "UnprocessableEntityException",
      422,
    );
  });

  it("rejects missing input attachments, missing encoder settings and undefined destination refs", async () => {
    const inputId = await pushInput();
    const e = (await expectAwsError(
      ml.send(
        new CreateChannelCommand(channelInput(inputId, { InputAttachments: [], EncoderSettings: undefined })),
      ),
      "UnprocessableEntityException",
      422,
    )) as UnprocessableEntityException;
    const paths = (e.ValidationErrors ?? []).map((v) => v.ElementPath);
    expect(paths).toEqual(expect.arrayContaining(["/inputAttachments", "/encoderSettings"]));

    const e2 = (await expectAwsError(
      ml.send(new CreateChannelCommand(channelInput(inputId, { EncoderSettings: encoderSettings("nope") }))),
      "UnprocessableEntityException",
      422,
    )) as UnprocessableEntityException;
    expect(e2.ValidationErrors?.[0]?.ElementPath).toMatch(/destinationRefId$/);
  });
});

describe("MediaLive idempotency", () => {
  it("returns the same channel for a repeated CreateChannel RequestId", async () => {
    const inputId = await pushInput();
    const a = await ml.send(new CreateChannelCommand(channelInput(inputId, { RequestId: "req-1" })));
    const b = await ml.send(new CreateChannelCommand(channelInput(inputId, { RequestId: "req-1" })));
    expect(b.Channel?.Id).toBe(a.Channel?.Id);
    expect((await ml.send(new ListChannelsCommand({}))).Channels).toHaveLength(1);
  });

  it("returns the same input for a repeated CreateInput RequestId", async () => {
    const req = {
      Name: "in",
      Type: "RTMP_PUSH" as const,
      Destinations: [{ StreamName: "live/a" }],
      RequestId: "in-1",
    };
    const a = await ml.send(new CreateInputCommand(req));
    const b = await ml.send(new CreateInputCommand(req));
    expect(b.Input?.Id).toBe(a.Input?.Id);
    expect((await ml.send(new ListInputsCommand({}))).Inputs).toHaveLength(1);
  });
});

describe("MediaLive inputs", () => {
  it("gives a STANDARD RTMP_PUSH input two endpoints and a SINGLE_INPUT one", async () => {
    const std = await ml.send(new DescribeInputCommand({ InputId: await pushInput(2) }));
    expect(std.InputClass).toBe("STANDARD");
    expect(std.Destinations).toHaveLength(2);
    expect(std.Destinations?.[0]?.Url).toMatch(/^rtmp:\/\/\d+\.\d+\.\d+\.\d+:1935\/live\/cam0$/);
    expect(std.Destinations?.[1]?.Url).toMatch(/\/live\/cam1$/);
    expect(std.Destinations?.[0]?.Port).toBe("1935");

    const single = await ml.send(new DescribeInputCommand({ InputId: await pushInput(1) }));
    expect(single.InputClass).toBe("SINGLE_INPUT");
    expect(single.Destinations).toHaveLength(1);
  });

  it("attaches an input to its channel, refuses DeleteInput while attached, detaches after the channel is deleted", async () => {
    const inputId = await pushInput();
    const created = await ml.send(new CreateChannelCommand(channelInput(inputId)));
    const id = created.Channel?.Id ?? "";
    const attached = await ml.send(new DescribeInputCommand({ InputId: inputId }));
    expect(attached.State).toBe("ATTACHED");
    expect(attached.AttachedChannels).toEqual([id]);
    await expectAwsError(ml.send(new DeleteInputCommand({ InputId: inputId })), "ConflictException", 409);

    await until(() => describe_(id), stateIs("IDLE"));
    await ml.send(new DeleteChannelCommand({ ChannelId: id }));
    const detached = await until(
      () => ml.send(new DescribeInputCommand({ InputId: inputId })),
      (i) => i.State === "DETACHED",
    );
    expect(detached.AttachedChannels).toEqual([]);
    expect((await describe_(id)).State).toBe("DELETED");

    await ml.send(new DeleteInputCommand({ InputId: inputId }));
    expect((await ml.send(new DescribeInputCommand({ InputId: inputId }))).State).toBe("DELETING");
    await until(
      () => ml.send(new DescribeInputCommand({ InputId: inputId })),
      (i) => i.State === "DELETED",
    );
  });

  it("enforces the 5 push input quota with a quota-naming 429 TooManyRequestsException", async () => {
    for (let i = 0; i < 5; i++)
      await ml.send(
        new CreateInputCommand({ Type: "RTMP_PUSH", Destinations: [{ StreamName: `live/${i}` }] }),
      );
    const e = await expectAwsError(
      ml.send(new CreateInputCommand({ Type: "RTMP_PUSH", Destinations: [{ StreamName: "live/6" }] })),
      "TooManyRequestsException",
      429,
    );
    expect(e.message).toBe(QUOTA_MESSAGES.pushInputs);
    expect(sim.resources().medialive.inputs).toHaveLength(5);
    // Pull inputs have their own quota (100): still allowed.
    const pull = await ml.send(
      new CreateInputCommand({ Type: "URL_PULL", Sources: [{ Url: "https://example.com/a.m3u8" }] }),
    );
    expect(pull.Input?.Type).toBe("URL_PULL");
  });

  it("enforces the 5 input security group quota; a deleted group frees its slot", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const g = await ml.send(
        new CreateInputSecurityGroupCommand({ WhitelistRules: [{ Cidr: `192.0.2.${i}/32` }] }),
      );
      ids.push(g.SecurityGroup?.Id ?? "");
    }
    const e = await expectAwsError(
      ml.send(new CreateInputSecurityGroupCommand({ WhitelistRules: [{ Cidr: "0.0.0.0/0" }] })),
      "TooManyRequestsException",
      429,
    );
    expect(e.message).toBe(QUOTA_MESSAGES.inputSecurityGroups);
    await ml.send(new DeleteInputSecurityGroupCommand({ InputSecurityGroupId: ids[0] }));
    const again = await ml.send(
      new CreateInputSecurityGroupCommand({ WhitelistRules: [{ Cidr: "0.0.0.0/0" }] }),
    );
    expect(again.SecurityGroup?.State).toBe("IDLE");
  });

  it("answers a quota breach on the wire as restJson1: x-amzn-ErrorType and a {message} body", async () => {
    for (let i = 0; i < 5; i++)
      await ml.send(new CreateInputSecurityGroupCommand({ WhitelistRules: [{ Cidr: "0.0.0.0/0" }] }));
    const res = await fetch(`${sim.url}/prod/inputSecurityGroups`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ whitelistRules: [{ cidr: "0.0.0.0/0" }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("x-amzn-errortype")).toBe("TooManyRequestsException");
    const body = (await res.json()) as { message?: string };
    expect(body.message).toBe(QUOTA_MESSAGES.inputSecurityGroups);
  });

  it("tracks input security groups in use and refuses to delete one in use", async () => {
    const g = await ml.send(new CreateInputSecurityGroupCommand({ WhitelistRules: [{ Cidr: "0.0.0.0/0" }] }));
    const gid = g.SecurityGroup?.Id ?? "";
    expect(g.SecurityGroup?.State).toBe("IDLE");
    const inputId = await pushInput(1, { InputSecurityGroups: [gid] });
    const used = await ml.send(new DescribeInputSecurityGroupCommand({ InputSecurityGroupId: gid }));
    expect(used.State).toBe("IN_USE");
    expect(used.Inputs).toEqual([inputId]);
    await expectAwsError(
      ml.send(new DeleteInputSecurityGroupCommand({ InputSecurityGroupId: gid })),
      "ConflictException",
      409,
    );
  });
});

describe("MediaLive lists, tags and quotas", () => {
  it("lists channels with tags and paginates with NextToken/MaxResults", async () => {
    for (let i = 0; i < 3; i++) await idleChannel({ Name: `ch-${i}`, Tags: { n: String(i) } });
    const first = await ml.send(new ListChannelsCommand({ MaxResults: 2 }));
    expect(first.Channels).toHaveLength(2);
    expect(first.NextToken).toBeTruthy();
    const second = await ml.send(new ListChannelsCommand({ MaxResults: 2, NextToken: first.NextToken }));
    expect(second.Channels).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    const all = [...(first.Channels ?? []), ...(second.Channels ?? [])];
    expect(all.map((c) => c.Tags?.n).sort()).toEqual(["0", "1", "2"]);
    expect(all.every((c) => c.State === "IDLE")).toBe(true);
  });

  it("creates, lists and deletes tags by ARN", async () => {
    const { created } = await idleChannel();
    const arn = created.Channel?.Arn ?? "";
    await ml.send(new CreateTagsCommand({ ResourceArn: arn, Tags: { session: "s1" } }));
    expect((await ml.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual({
      castflow: "test",
      session: "s1",
    });
    await ml.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ["castflow"] }));
    expect((await ml.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual({
      session: "s1",
    });
  });

  it("enforces the 5 channel quota", async () => {
    const inputs: string[] = [];
    for (let i = 0; i < 5; i++) inputs.push(await pushInput());
    for (const id of inputs) await ml.send(new CreateChannelCommand(channelInput(id)));
    const pull = await ml.send(
      new CreateInputCommand({ Type: "URL_PULL", Sources: [{ Url: "https://example.com/a.m3u8" }] }),
    );
    await until(
      () => ml.send(new DescribeInputCommand({ InputId: pull.Input?.Id })),
      (i) => i.State === "DETACHED",
    );
    const e = await expectAwsError(
      ml.send(new CreateChannelCommand(channelInput(pull.Input?.Id ?? ""))),
      "TooManyRequestsException",
      429,
    );
    expect(e.message).toBe(QUOTA_MESSAGES.channels);
    // A quota breach is not throttling: the message names the quota, and nothing was created.
    expect(e.message).toMatch(/limit exceeded.*quota/i);
    expect((await ml.send(new ListChannelsCommand({}))).Channels).toHaveLength(5);
  });

  it("replays a known CreateChannel RequestId at the quota instead of refusing it", async () => {
    const inputs: string[] = [];
    for (let i = 0; i < 5; i++) inputs.push(await pushInput());
    const first = await ml.send(
      new CreateChannelCommand(channelInput(inputs[0] ?? "", { RequestId: "quota-replay" })),
    );
    for (const id of inputs.slice(1)) await ml.send(new CreateChannelCommand(channelInput(id)));
    const replay = await ml.send(
      new CreateChannelCommand(channelInput(inputs[0] ?? "", { RequestId: "quota-replay" })),
    );
    expect(replay.Channel?.Id).toBe(first.Channel?.Id);
  });
});
