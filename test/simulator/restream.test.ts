import {
  AddFlowOutputsCommand,
  CreateFlowCommand,
  DeleteFlowCommand,
  DescribeFlowCommand,
  RemoveFlowOutputCommand,
  type SetSourceRequest,
  StartFlowCommand,
  StopFlowCommand,
} from "@aws-sdk/client-mediaconnect";
import {
  CreateChannelCommand,
  CreateInputCommand,
  type CreateInputCommandInput,
  DeleteChannelCommand,
  DeleteInputCommand,
  DescribeChannelCommand,
  DescribeInputCommand,
  ListInputsCommand,
  StartChannelCommand,
  StopChannelCommand,
  type UnprocessableEntityException,
} from "@aws-sdk/client-medialive";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "#local/simulator/index.ts";
import { admin, channelInput, clients, expectAwsError, rtmpDestination, until } from "./helpers.ts";

let sim: Simulator;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  // 0.002: channel CREATING 20 ms, STARTING 150 ms, STOPPING 60 ms; flow STARTING 40 ms,
  // STOPPING 20 ms; DELETED kept 1.2 s. Flow deletion slowed to 1 s so a test can see DELETING.
  sim = await startSimulator({ timeScale: 0.002, durations: { flowDelete: 500 } });
  c = clients(sim.url);
});
afterAll(async () => {
  for (const client of Object.values(c)) client.destroy();
  await sim.close();
});
beforeEach(async () => {
  await admin(sim.url, "POST", "/_sim/reset");
});

const ROLE_ARN = "arn:aws:iam::000000000000:role/MediaLiveAccessRole";
const YOUTUBE = "rtmp://a.rtmp.youtube.com/live2";
const TWITCH = "rtmp://live.twitch.tv/app";

interface IngestEntry {
  url: string;
  streamName: string;
  channelId: string;
  channelArn: string;
  receiving: boolean;
  since: string | null;
  interruptions: number;
  refused: boolean;
}
const ingestList = async () => (await admin(sim.url, "GET", "/_sim/ingest")).body.ingest as IngestEntry[];
const entryFor = async (url: string, streamName: string) =>
  (await ingestList()).find((e) => e.url === url && e.streamName === streamName);
const receivingIs = (url: string, streamName: string, receiving: boolean) =>
  until(
    () => entryFor(url, streamName),
    (e) => e?.receiving === receiving,
  ) as Promise<IngestEntry>;

async function createFlow(name: string, extra: { sources?: SetSourceRequest[]; failover?: boolean } = {}) {
  const res = await c.mc.send(
    new CreateFlowCommand({
      Name: name,
      ...(extra.sources
        ? { Sources: extra.sources }
        : { Source: { Name: "encoder", Protocol: "srt-listener", IngestPort: 5000 } }),
      ...(extra.failover
        ? {
            SourceFailoverConfig: {
              State: "ENABLED",
              FailoverMode: "FAILOVER",
              RecoveryWindow: 200,
              SourcePriority: { PrimarySource: "main" },
            },
          }
        : {}),
    }),
  );
  return res.Flow?.FlowArn ?? "";
}
const describeFlow = async (arn: string) => (await c.mc.send(new DescribeFlowCommand({ FlowArn: arn }))).Flow;

const mediaConnectInput = (flowArns: string[], extra: Partial<CreateInputCommandInput> = {}) =>
  new CreateInputCommand({
    Name: "from-flow",
    Type: "MEDIACONNECT",
    MediaConnectFlows: flowArns.map((FlowArn) => ({ FlowArn })),
    RoleArn: ROLE_ARN,
    ...extra,
  });
const describeInput = (id: string) => c.ml.send(new DescribeInputCommand({ InputId: id }));
const describeChannel = (id: string) => c.ml.send(new DescribeChannelCommand({ ChannelId: id }));

async function detachedInput(cmd: CreateInputCommand) {
  const res = await c.ml.send(cmd);
  const id = res.Input?.Id ?? "";
  await until(
    () => describeInput(id),
    (i) => i.State === "DETACHED",
  );
  return { id, arn: res.Input?.Arn ?? "", input: res.Input };
}
const rtmpPushInput = (streamName = "live/cam") =>
  detachedInput(
    new CreateInputCommand({ Name: "obs", Type: "RTMP_PUSH", Destinations: [{ StreamName: streamName }] }),
  );

/** An IDLE SINGLE_PIPELINE channel on the input, pushing to url with the stream name. */
async function idleChannel(inputId: string, url: string, streamName: string) {
  const res = await c.ml.send(
    new CreateChannelCommand(channelInput(inputId, { Destinations: [rtmpDestination(1, url, streamName)] })),
  );
  const id = res.Channel?.Id ?? "";
  await until(
    () => describeChannel(id),
    (d) => d.State === "IDLE",
  );
  return id;
}
async function startChannel(id: string) {
  await c.ml.send(new StartChannelCommand({ ChannelId: id }));
  await until(
    () => describeChannel(id),
    (d) => d.State === "RUNNING",
  );
}
async function stopChannel(id: string) {
  await c.ml.send(new StopChannelCommand({ ChannelId: id }));
  await until(
    () => describeChannel(id),
    (d) => d.State === "IDLE",
  );
}

describe("MediaLive MEDIACONNECT inputs", () => {
  it("adds a MediaLive-managed output to the flow, refuses RemoveFlowOutput on it, and removes it once the input is DELETED", async () => {
    const flowArn = await createFlow("cam-a");
    const created = await c.ml.send(mediaConnectInput([flowArn]));
    expect(created.$metadata.httpStatusCode).toBe(201);
    const input = created.Input;
    expect(input?.Type).toBe("MEDIACONNECT");
    expect(input?.InputClass).toBe("SINGLE_INPUT");
    expect(input?.MediaConnectFlows).toEqual([{ FlowArn: flowArn }]);
    expect(input?.RoleArn).toBe(ROLE_ARN);
    expect(input?.Destinations).toBeUndefined();
    const inputId = input?.Id ?? "";

    const flow = await describeFlow(flowArn);
    expect(flow?.Outputs).toHaveLength(1);
    const managed = flow?.Outputs?.[0];
    expect(managed).toMatchObject({
      Name: `MediaLive-${inputId}`,
      MediaLiveInputArn: input?.Arn,
      OutputStatus: "ENABLED",
    });
    expect(managed?.OutputArn).toMatch(/^arn:aws:mediaconnect:us-east-1:000000000000:output:/);
    expect(sim.resources().mediaconnect.flows[0]?.outputs).toEqual([
      expect.objectContaining({ mediaLiveInputArn: input?.Arn }),
    ]);

    const e = await expectAwsError(
      c.mc.send(new RemoveFlowOutputCommand({ FlowArn: flowArn, OutputArn: managed?.OutputArn ?? "" })),
      "BadRequestException",
      400,
    );
    expect(e.message).toContain("managed by MediaLive");
    expect((await describeFlow(flowArn))?.Outputs).toHaveLength(1);

    await until(
      () => describeInput(inputId),
      (i) => i.State === "DETACHED",
    );
    const listed = (await c.ml.send(new ListInputsCommand({}))).Inputs?.find((i) => i.Id === inputId);
    expect(listed?.MediaConnectFlows).toEqual([{ FlowArn: flowArn }]);
    expect(listed?.RoleArn).toBe(ROLE_ARN);
    expect(listed?.Destinations).toBeUndefined();

    await c.ml.send(new DeleteInputCommand({ InputId: inputId }));
    expect((await describeFlow(flowArn))?.Outputs).toHaveLength(1); // still DELETING
    await until(
      () => describeInput(inputId),
      (i) => i.State === "DELETED",
    );
    expect((await describeFlow(flowArn))?.Outputs).toEqual([]);
  });

  it("makes a STANDARD input from two flows, with one managed output on each", async () => {
    const a = await createFlow("cam-a");
    const b = await createFlow("cam-b");
    const res = await c.ml.send(mediaConnectInput([a, b]));
    expect(res.Input?.InputClass).toBe("STANDARD");
    for (const arn of [a, b]) {
      const outputs = (await describeFlow(arn))?.Outputs ?? [];
      expect(outputs.map((o) => o.MediaLiveInputArn)).toEqual([res.Input?.Arn]);
    }
  });

  it("refuses a missing or malformed roleArn, no flows, three flows, an unknown or DELETING flow (400 naming the field or flow)", async () => {
    const flowArn = await createFlow("cam-a");
    const cases: [Partial<CreateInputCommandInput>, string][] = [
      [{ RoleArn: undefined }, "roleArn"],
      [{ RoleArn: "not-a-role" }, "roleArn"],
      [{ MediaConnectFlows: [] }, "mediaConnectFlows"],
      [{ MediaConnectFlows: undefined }, "mediaConnectFlows"],
    ];
    for (const [extra, field] of cases) {
      const e = await expectAwsError(
        c.ml.send(mediaConnectInput([flowArn], extra)),
        "BadRequestException",
        400,
      );
      expect(e.message).toContain(field);
    }
    const b = await createFlow("cam-b");
    const d = await createFlow("cam-c");
    const three = await expectAwsError(
      c.ml.send(mediaConnectInput([flowArn, b, d])),
      "BadRequestException",
      400,
    );
    expect(three.message).toContain("mediaConnectFlows");
    const unknown = `${flowArn.slice(0, -5)}gone`;
    const e = await expectAwsError(c.ml.send(mediaConnectInput([unknown])), "BadRequestException", 400);
    expect(e.message).toContain(unknown);

    await c.mc.send(new DeleteFlowCommand({ FlowArn: d }));
    expect((await describeFlow(d))?.Status).toBe("DELETING");
    const deleting = await expectAwsError(
      c.ml.send(mediaConnectInput([flowArn, d])),
      "BadRequestException",
      400,
    );
    expect(deleting.message).toContain(d);
    // Nothing was half-made: no input, no managed output on the healthy flow.
    expect(sim.resources().medialive.inputs).toEqual([]);
    expect((await describeFlow(flowArn))?.Outputs).toEqual([]);
  });

  it("counts the managed output against the flow's 50 outputs: a full flow refuses the input", async () => {
    const flowArn = await createFlow("cam-a");
    await c.mc.send(
      new AddFlowOutputsCommand({
        FlowArn: flowArn,
        Outputs: Array.from({ length: 50 }, (_, i) => ({
          Name: `dest-${i}`,
          Protocol: "rtp-fec" as const,
          Destination: "198.51.100.7",
          Port: 6000 + 10 * i,
        })),
      }),
    );
    const e = await expectAwsError(c.ml.send(mediaConnectInput([flowArn])), "BadRequestException", 400);
    expect(e.message).toContain("output limit");
    expect(e.message).toContain(flowArn);

    const first = (await describeFlow(flowArn))?.Outputs?.[0]?.OutputArn ?? "";
    await c.mc.send(new RemoveFlowOutputCommand({ FlowArn: flowArn, OutputArn: first }));
    await until(
      () => describeFlow(flowArn),
      (f) => f?.Outputs?.length === 49,
    );
    const res = await c.ml.send(mediaConnectInput([flowArn]));
    const outputs = (await describeFlow(flowArn))?.Outputs ?? [];
    expect(outputs).toHaveLength(50);
    expect(outputs.filter((o) => o.MediaLiveInputArn === res.Input?.Arn)).toHaveLength(1);
    await expectAwsError(
      c.mc.send(
        new AddFlowOutputsCommand({
          FlowArn: flowArn,
          Outputs: [{ Name: "one-more", Protocol: "rtp-fec", Destination: "198.51.100.7", Port: 7000 }],
        }),
      ),
      "AddFlowOutputs420Exception",
      420,
    );
  });

  it("does not count MEDIACONNECT inputs as push inputs; RTP_PUSH inputs get rtp:// endpoints and do count", async () => {
    const flowArn = await createFlow("cam-a");
    const std = await c.ml.send(new CreateInputCommand({ Name: "rtp", Type: "RTP_PUSH" }));
    expect(std.Input?.InputClass).toBe("STANDARD");
    expect(std.Input?.Destinations).toHaveLength(2);
    for (const d of std.Input?.Destinations ?? []) {
      expect(d.Url).toMatch(/^rtp:\/\/203\.0\.113\.\d+:5000$/);
      expect(d.Port).toBe("5000");
    }
    const single = await c.ml.send(new CreateInputCommand({ Type: "RTP_PUSH", Destinations: [{}] }));
    expect(single.Input?.InputClass).toBe("SINGLE_INPUT");
    expect(single.Input?.Destinations).toHaveLength(1);
    for (let i = 0; i < 3; i++) await c.ml.send(new CreateInputCommand({ Type: "RTP_PUSH" }));
    // Five push inputs: the quota is full for push inputs, not for MEDIACONNECT ones.
    await expectAwsError(
      c.ml.send(new CreateInputCommand({ Type: "RTP_PUSH" })),
      "TooManyRequestsException",
      429,
    );
    const mc = await c.ml.send(mediaConnectInput([flowArn]));
    expect(mc.Input?.Type).toBe("MEDIACONNECT");
  });
});

describe("RTMP output destinations (channel validation)", () => {
  it("needs rtmp:// or rtmps:// and a stream name in every referenced setting (422 naming the element)", async () => {
    const { id: inputId } = await rtmpPushInput();
    const bad = async (destination: ReturnType<typeof rtmpDestination>, channelClass = "SINGLE_PIPELINE") => {
      const e = (await expectAwsError(
        c.ml.send(
          new CreateChannelCommand(
            channelInput(inputId, {
              ChannelClass: channelClass as "SINGLE_PIPELINE",
              Destinations: [destination],
            }),
          ),
        ),
        "UnprocessableEntityException",
        422,
      )) as UnprocessableEntityException;
      return (e.ValidationErrors ?? []).map((v) => v.ElementPath);
    };
    expect(await bad(rtmpDestination(1, "https://a.rtmp.youtube.com/live2", "key"))).toEqual([
      "/destinations/0/settings/0/url",
    ]);
    expect(await bad(rtmpDestination(1, YOUTUBE, ""))).toEqual(["/destinations/0/settings/0/streamName"]);
    expect(
      await bad(
        {
          Id: "dest1",
          Settings: [
            { Url: YOUTUBE, StreamName: "key" },
            { Url: "srt://b.example:9000", StreamName: "key" },
          ],
        },
        "STANDARD",
      ),
    ).toEqual(["/destinations/0/settings/1/url"]);
    // The 1-vs-2 settings rule still holds next to it.
    expect(await bad(rtmpDestination(2, YOUTUBE, "key"))).toEqual(["/destinations/0/settings"]);
    // rtmps:// with a key is fine.
    const ok = await c.ml.send(
      new CreateChannelCommand(
        channelInput(inputId, {
          Destinations: [rtmpDestination(1, "rtmps://live-api-s.facebook.com:443/rtmp/", "k")],
        }),
      ),
    );
    expect(ok.Channel?.State).toBe("CREATING");
  });
});

describe("platform ingest view (/_sim/ingest)", () => {
  it("tracks receiving, since and interruptions across channel start / stop / start", async () => {
    const { id: inputId } = await rtmpPushInput();
    const channelId = await idleChannel(inputId, YOUTUBE, "yt-key-1");
    const idle = await entryFor(YOUTUBE, "yt-key-1");
    expect(idle).toMatchObject({
      streamName: "yt-key-1",
      channelId,
      receiving: false,
      since: null,
      interruptions: 0,
      refused: false,
    });
    expect(idle?.channelArn).toMatch(new RegExp(`:channel:${channelId}$`));

    const before = Date.now();
    await startChannel(channelId);
    const first = await entryFor(YOUTUBE, "yt-key-1");
    expect(first?.receiving).toBe(true);
    expect(first?.interruptions).toBe(0);
    expect(Date.parse(first?.since ?? "")).toBeGreaterThanOrEqual(before - 5);

    await c.ml.send(new StopChannelCommand({ ChannelId: channelId }));
    const stopped = await entryFor(YOUTUBE, "yt-key-1"); // STOPPING: no longer pushing
    expect(stopped).toMatchObject({ receiving: false, since: null, interruptions: 0 });
    await until(
      () => describeChannel(channelId),
      (d) => d.State === "IDLE",
    );

    await startChannel(channelId);
    const again = await entryFor(YOUTUBE, "yt-key-1");
    expect(again).toMatchObject({ receiving: true, interruptions: 1 });
    expect(Date.parse(again?.since ?? "")).toBeGreaterThan(Date.parse(first?.since ?? ""));
    expect(sim.resources().ingest).toEqual(await ingestList());
    expect(await ingestList()).toHaveLength(1);
  });

  it("with a MEDIACONNECT input, receives only while the flow is ACTIVE and its active source pushes", async () => {
    const flowArn = await createFlow("cam-a", {
      sources: [
        { Name: "main", Protocol: "srt-listener", IngestPort: 5000 },
        { Name: "backup", Protocol: "srt-listener", IngestPort: 5001 },
      ],
      failover: true,
    });
    const { id: inputId } = await detachedInput(mediaConnectInput([flowArn]));
    const channelId = await idleChannel(inputId, TWITCH, "tw-key");
    await startChannel(channelId);
    // RUNNING, but the flow is in STANDBY: nothing reaches Twitch.
    expect(await entryFor(TWITCH, "tw-key")).toMatchObject({ receiving: false, interruptions: 0 });

    await c.mc.send(new StartFlowCommand({ FlowArn: flowArn }));
    const first = await receivingIs(TWITCH, "tw-key", true);
    expect(first.interruptions).toBe(0);

    // The primary source goes silent: failover to the backup keeps the stream going.
    const set = await admin(sim.url, "POST", "/_sim/sources", {
      flowArn,
      sourceName: "main",
      pushing: false,
    });
    expect(set.status).toBe(200);
    expect(set.body.activeSource).toBe("backup");
    expect(await entryFor(TWITCH, "tw-key")).toMatchObject({ receiving: true, since: first.since });

    // Both silent: the platform gets nothing; both back: receiving again, one interruption.
    await admin(sim.url, "POST", "/_sim/sources", { flowArn, pushing: false });
    expect(await entryFor(TWITCH, "tw-key")).toMatchObject({ receiving: false, since: null });
    await admin(sim.url, "POST", "/_sim/sources", { flowArn, pushing: true });
    expect(await entryFor(TWITCH, "tw-key")).toMatchObject({ receiving: true, interruptions: 1 });

    // Flow stop / start: another interruption.
    await c.mc.send(new StopFlowCommand({ FlowArn: flowArn }));
    expect(await entryFor(TWITCH, "tw-key")).toMatchObject({ receiving: false });
    await until(
      () => describeFlow(flowArn),
      (f) => f?.Status === "STANDBY",
    );
    await c.mc.send(new StartFlowCommand({ FlowArn: flowArn }));
    const resumed = await receivingIs(TWITCH, "tw-key", true);
    expect(resumed.interruptions).toBe(2);
    expect(resumed.channelId).toBe(channelId);
  });

  it("stops receiving while the platform refuses the url, and counts the resume", async () => {
    const { id: inputId } = await rtmpPushInput();
    const channelId = await idleChannel(inputId, YOUTUBE, "yt-key");
    await startChannel(channelId);
    const refused = await admin(sim.url, "POST", "/_sim/ingest/refuse", { url: YOUTUBE, refuse: true });
    expect(refused).toEqual({ status: 200, body: { url: YOUTUBE, refused: true } });
    expect(await entryFor(YOUTUBE, "yt-key")).toMatchObject({ receiving: false, refused: true, since: null });
    await admin(sim.url, "POST", "/_sim/ingest/refuse", { url: YOUTUBE, refuse: false });
    expect(await entryFor(YOUTUBE, "yt-key")).toMatchObject({
      receiving: true,
      refused: false,
      interruptions: 1,
    });
  });

  it("stops receiving while a push input's encoder is silent (/_sim/sources inputId)", async () => {
    const { id: inputId } = await rtmpPushInput();
    const channelId = await idleChannel(inputId, YOUTUBE, "yt-key");
    await startChannel(channelId);
    expect((await admin(sim.url, "POST", "/_sim/sources", { inputId, pushing: false })).status).toBe(200);
    expect(await entryFor(YOUTUBE, "yt-key")).toMatchObject({ receiving: false });
    expect((await admin(sim.url, "GET", "/_sim/sources")).body.sources).toEqual([
      { inputId, pushing: false },
    ]);
    await admin(sim.url, "POST", "/_sim/sources", { inputId, pushing: true });
    expect(await entryFor(YOUTUBE, "yt-key")).toMatchObject({ receiving: true, interruptions: 1 });
  });

  it("keeps one entry per url + stream name: a second channel adds no interruption to the first; a deleted channel's entry stays and a new channel continues it", async () => {
    const { id: inA } = await rtmpPushInput("live/a");
    const { id: inB } = await rtmpPushInput("live/b");
    const a = await idleChannel(inA, YOUTUBE, "key-a");
    await startChannel(a);
    const aRunning = await entryFor(YOUTUBE, "key-a");

    const b = await idleChannel(inB, TWITCH, "key-b");
    await startChannel(b);
    expect(await entryFor(TWITCH, "key-b")).toMatchObject({
      receiving: true,
      channelId: b,
      interruptions: 0,
    });
    expect(await entryFor(YOUTUBE, "key-a")).toEqual(aRunning);

    await stopChannel(a);
    await c.ml.send(new DeleteChannelCommand({ ChannelId: a }));
    // Gone from MediaLive (DELETED, then purged), still listed for the platform.
    await until(
      async () => sim.resources().medialive.channels.some((ch) => ch.id === a),
      (present) => !present,
    );
    expect(await entryFor(YOUTUBE, "key-a")).toMatchObject({
      channelId: a,
      receiving: false,
      interruptions: 0,
    });

    const { id: inC } = await rtmpPushInput("live/c");
    const next = await idleChannel(inC, YOUTUBE, "key-a");
    await startChannel(next);
    const continued = await entryFor(YOUTUBE, "key-a");
    expect(continued).toMatchObject({ channelId: next, receiving: true, interruptions: 1 });
    expect((await ingestList()).filter((e) => e.url === YOUTUBE && e.streamName === "key-a")).toHaveLength(1);
    expect(await entryFor(TWITCH, "key-b")).toMatchObject({ receiving: true, interruptions: 0 });

    await admin(sim.url, "POST", "/_sim/reset");
    expect(await ingestList()).toEqual([]);
  });

  it("answers 400 naming the field for bad /_sim/sources and /_sim/ingest/refuse bodies, 404 for unknown flows, inputs and sources", async () => {
    const flowArn = await createFlow("cam-a");
    const { id: inputId } = await rtmpPushInput();
    const bad: [unknown, string][] = [
      [{ flowArn }, "pushing"],
      [{ flowArn, pushing: "yes" }, "pushing"],
      [{ pushing: true }, "flowArn"],
      [{ flowArn, inputId, pushing: true }, "flowArn"],
      [{ inputId, sourceName: "encoder", pushing: true }, "sourceName"],
    ];
    for (const [body, field] of bad) {
      const res = await admin(sim.url, "POST", "/_sim/sources", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.field).toBe(field);
    }
    expect((await admin(sim.url, "POST", "/_sim/sources", "{nope")).status).toBe(400);
    expect(
      (await admin(sim.url, "POST", "/_sim/sources", { flowArn: `${flowArn}x`, pushing: false })).status,
    ).toBe(404);
    expect(
      (await admin(sim.url, "POST", "/_sim/sources", { inputId: "9999999", pushing: false })).status,
    ).toBe(404);
    expect(
      (await admin(sim.url, "POST", "/_sim/sources", { flowArn, sourceName: "nope", pushing: false })).status,
    ).toBe(404);
    const mcInput = await c.ml.send(mediaConnectInput([flowArn]));
    expect(
      (await admin(sim.url, "POST", "/_sim/sources", { inputId: mcInput.Input?.Id, pushing: false })).status,
    ).toBe(400);

    for (const body of [
      { url: YOUTUBE },
      { refuse: true },
      { url: "", refuse: true },
      { url: YOUTUBE, refuse: 1 },
    ]) {
      const res = await admin(sim.url, "POST", "/_sim/ingest/refuse", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    // Nothing was set by the refused calls.
    expect((await admin(sim.url, "GET", "/_sim/sources")).body.sources).toEqual([]);
    await admin(sim.url, "POST", "/_sim/sources", { flowArn, pushing: false });
    expect((await admin(sim.url, "GET", "/_sim/sources")).body.sources).toEqual([
      { flowArn, sourceName: "encoder", pushing: false },
    ]);
  });
});
