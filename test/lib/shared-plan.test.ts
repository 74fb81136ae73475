import { describe, expect, it } from "vitest";
import type { Destination } from "#lib/destinations/model.ts";
import {
  buildSharedChannel,
  desiredOutputs,
  destinationFingerprint,
  failedDestinations,
  interruptedBy,
  mayKeepRunning,
  type PlanDestination,
  type PlanInput,
  planSharedChannel,
  SHARED_FLOW_USER,
  sharedChannelSettings,
  toPlanDestination,
} from "#lib/destinations/shared-plan.ts";

const dest = (id: string, over: Partial<PlanDestination> = {}): PlanDestination => ({
  destinationId: id,
  status: "idle",
  wanted: "idle",
  requestId: `req-${id}`,
  fingerprint: `fp-${id}`,
  ...over,
});
const running = (id: string) => dest(id, { status: "running", wanted: "running" });
const starting = (id: string) => dest(id, { status: "starting", wanted: "running" });

function input(over: Partial<PlanInput> & { destinations: PlanDestination[] }): PlanInput {
  return {
    channel: { channelId: null, state: "DELETED", configured: {} },
    input: { type: "RTMP_PUSH", inputId: "input-1" },
    hasFlow: false,
    flowHeld: false,
    ...over,
  };
}
const channel = (state: string, configured: Record<string, string>) => ({
  channelId: "ch-1",
  state,
  configured,
});

describe("planning a shared channel pass", () => {
  it("creates and starts the channel for the first destination that wants to run (auto-start)", () => {
    const plan = planSharedChannel(input({ destinations: [starting("a"), dest("b")] }));
    expect(plan).toMatchObject({
      outputs: { a: "fp-a" },
      run: true,
      writeChannel: true,
      stopChannel: false,
      startChannel: true,
      deleteChannel: false,
      acquireFlow: false,
      needsInput: false,
      interrupts: [],
      channel: { channelId: null },
    });
    expect(plan.settle).toEqual([{ destinationId: "a", to: "running", requestId: "req-a" }]);
  });

  it("on a MediaConnect source, needs the flow and makes the MEDIACONNECT input first", () => {
    const plan = planSharedChannel(
      input({ destinations: [starting("a")], input: { type: "MEDIACONNECT", inputId: null }, hasFlow: true }),
    );
    expect(plan).toMatchObject({
      acquireFlow: true,
      needsInput: true,
      writeChannel: true,
      flowUser: SHARED_FLOW_USER,
    });
  });

  it("adds a second output by stop -> update -> start, naming the running destination it interrupts", () => {
    const plan = planSharedChannel(
      input({ destinations: [running("a"), starting("b")], channel: channel("RUNNING", { a: "fp-a" }) }),
    );
    expect(plan).toMatchObject({
      outputs: { a: "fp-a", b: "fp-b" },
      stopChannel: true,
      writeChannel: true,
      startChannel: true,
      interrupts: ["a"],
      channel: { channelId: "ch-1" },
    });
    expect(plan.settle).toEqual([
      { destinationId: "a", to: "running", requestId: "req-a" },
      { destinationId: "b", to: "running", requestId: "req-b" },
    ]);
  });

  it("does nothing to a running channel that already carries exactly what is wanted", () => {
    const plan = planSharedChannel(
      input({
        destinations: [running("a"), running("b")],
        channel: channel("RUNNING", { a: "fp-a", b: "fp-b" }),
      }),
    );
    expect(plan).toMatchObject({
      stopChannel: false,
      writeChannel: false,
      startChannel: false,
      interrupts: [],
    });
    expect(plan.settle).toEqual([]);
  });

  it("restarts the channel when one destination's URL, key version or preset changed (its fingerprint)", () => {
    const plan = planSharedChannel(
      input({
        destinations: [
          running("a"),
          dest("b", { status: "updating", wanted: "running", fingerprint: "fp-b2" }),
        ],
        channel: channel("RUNNING", { a: "fp-a", b: "fp-b" }),
      }),
    );
    expect(plan).toMatchObject({ stopChannel: true, writeChannel: true, interrupts: ["a"] });
    expect(plan.settle.map((x) => [x.destinationId, x.to])).toEqual([
      ["a", "running"],
      ["b", "running"],
    ]);
  });

  it("removes a stopped destination's output with a restart of the others", () => {
    const plan = planSharedChannel(
      input({
        destinations: [running("a"), dest("b", { status: "stopping", wanted: "idle" })],
        channel: channel("RUNNING", { a: "fp-a", b: "fp-b" }),
      }),
    );
    expect(plan).toMatchObject({
      outputs: { a: "fp-a" },
      stopChannel: true,
      writeChannel: true,
      interrupts: ["a"],
    });
    expect(plan.settle.find((x) => x.destinationId === "b")?.to).toBe("idle");
  });

  it("stops the channel with the last destination (auto-stop) and releases the flow, keeping the channel", () => {
    const plan = planSharedChannel(
      input({
        destinations: [dest("a", { status: "stopping", wanted: "idle" }), dest("b")],
        channel: channel("RUNNING", { a: "fp-a" }),
        hasFlow: true,
        flowHeld: true,
        input: { type: "MEDIACONNECT", inputId: "mc-1" },
      }),
    );
    expect(plan).toMatchObject({
      run: false,
      stopChannel: true,
      writeChannel: false,
      startChannel: false,
      deleteChannel: false,
      releaseFlow: true,
      interrupts: [],
    });
    expect(plan.settle).toEqual([{ destinationId: "a", to: "idle", requestId: "req-a" }]);
  });

  it("deletes the channel with the last destination; an rtmp-push source keeps its input, waited detached", () => {
    const plan = planSharedChannel(
      input({
        destinations: [
          dest("a", { status: "deleting", wanted: "deleted" }),
          dest("gone", { status: "deleted" }),
        ],
        channel: channel("IDLE", { a: "fp-a" }),
      }),
    );
    expect(plan).toMatchObject({
      deleteChannel: true,
      stopChannel: false,
      teardown: { channelId: "ch-1", inputId: null, detachInputId: "input-1" },
    });
    expect(plan.settle).toEqual([{ destinationId: "a", to: "deleted", requestId: "req-a" }]);
  });

  it("deletes a MEDIACONNECT input with the channel, and a leftover input without one", () => {
    const mc = { type: "MEDIACONNECT" as const, inputId: "mc-1" };
    expect(
      planSharedChannel(
        input({
          destinations: [dest("a", { status: "deleting", wanted: "deleted" })],
          channel: channel("IDLE", {}),
          input: mc,
        }),
      ).teardown,
    ).toEqual({ channelId: "ch-1", inputId: "mc-1", detachInputId: null });
    expect(planSharedChannel(input({ destinations: [], input: mc })).teardown).toEqual({
      channelId: null,
      inputId: "mc-1",
      detachInputId: null,
    });
  });

  it("keeps the channel while any destination remains, and never counts one in error as wanting to run", () => {
    const plan = planSharedChannel(
      input({
        destinations: [
          dest("a", { status: "deleting", wanted: "deleted" }),
          dest("b", { status: "error", wanted: "running" }),
        ],
        channel: channel("IDLE", { b: "fp-b" }),
      }),
    );
    expect(plan).toMatchObject({ run: false, deleteChannel: false, stopChannel: false });
  });

  it("starts a stopped channel whose outputs are already right without writing it", () => {
    const plan = planSharedChannel(
      input({ destinations: [starting("a")], channel: channel("IDLE", { a: "fp-a" }) }),
    );
    expect(plan).toMatchObject({ writeChannel: false, stopChannel: false, startChannel: true });
  });

  it("treats a channel MediaLive deleted behind castflow's back as none", () => {
    const plan = planSharedChannel(
      input({ destinations: [starting("a")], channel: channel("DELETED", { a: "fp-a" }) }),
    );
    expect(plan).toMatchObject({ writeChannel: true, stopChannel: false, channel: { channelId: null } });
  });

  it("lists the wanted outputs in a stable order", () => {
    expect(Object.keys(desiredOutputs([starting("c"), running("a"), dest("b")]))).toEqual(["a", "c"]);
  });
});

describe("after a failed pass", () => {
  it("keeps a running channel only if it carries exactly settled running destinations", () => {
    const ok = { destinations: [running("a")], channel: channel("RUNNING", { a: "fp-a" }) };
    expect(mayKeepRunning(ok)).toBe(true);
    expect(
      mayKeepRunning({ ...ok, destinations: [dest("a", { status: "restarting", wanted: "running" })] }),
    ).toBe(false);
    expect(mayKeepRunning({ ...ok, channel: channel("RUNNING", { a: "fp-old" }) })).toBe(false);
    expect(mayKeepRunning({ ...ok, channel: channel("RUNNING", { a: "fp-a", b: "fp-b" }) })).toBe(false);
    expect(mayKeepRunning({ ...ok, channel: channel("IDLE", { a: "fp-a" }) })).toBe(false);
  });

  it("fails every transitional destination, and the running ones when the channel stopped", () => {
    const all = [
      running("a"),
      starting("b"),
      dest("c"),
      dest("d", { status: "restarting", wanted: "running" }),
    ];
    expect(failedDestinations(all, false)).toEqual([
      { destinationId: "a", interrupted: true },
      { destinationId: "b", interrupted: false },
      { destinationId: "d", interrupted: false },
    ]);
    expect(failedDestinations(all, true).map((x) => x.destinationId)).toEqual(["b", "d"]);
  });
});

describe("fingerprints and the channel", () => {
  const record = {
    destinationId: "d-1",
    activeUrl: "primary",
    rtmpUrl: "rtmp://a.rtmp.youtube.com/live2",
    backupRtmpUrl: "rtmp://b.rtmp.youtube.com/live2?backup=1",
    streamKeyParameter: "/castflow/stream-keys/d-1/primary",
    backupStreamKeyParameter: "/castflow/stream-keys/d-1/backup",
    streamKeyVersion: 1,
    backupStreamKeyVersion: 1,
    preset: "1080p30",
    status: "running",
    wanted: "running",
    requestId: "r-1",
  } as unknown as Destination;

  it("changes with the URL, the key's version, the preset and the active URL, and never holds the key", () => {
    const base = destinationFingerprint(record);
    expect(destinationFingerprint({ ...record })).toBe(base);
    expect(destinationFingerprint({ ...record, streamKeyVersion: 2 })).not.toBe(base);
    expect(destinationFingerprint({ ...record, rtmpUrl: "rtmp://x.example/live" })).not.toBe(base);
    expect(destinationFingerprint({ ...record, preset: "720p30" })).not.toBe(base);
    expect(destinationFingerprint({ ...record, activeUrl: "backup" })).not.toBe(base);
    expect(toPlanDestination(record)).toEqual({
      destinationId: "d-1",
      status: "running",
      wanted: "running",
      requestId: "r-1",
      fingerprint: base,
    });
  });

  it("pushes one RTMP output per destination, sharing one encode per preset", () => {
    const request = buildSharedChannel({
      name: "castflow-shared-s",
      inputId: "in-1",
      roleArn: "arn:aws:iam::000000000000:role/ml",
      requestId: "apply-1-channel-0",
      tags: { "castflow:source": "s" },
      outputs: [
        { destinationId: "b", url: "rtmp://live.twitch.tv/app", streamKey: "live_1_x", preset: "720p30" },
        {
          destinationId: "a",
          url: "rtmp://a.rtmp.youtube.com/live2",
          streamKey: "aaaa-bbbb",
          preset: "1080p30",
        },
        {
          destinationId: "c",
          url: "rtmp://a.rtmp.youtube.com/live2",
          streamKey: "cccc-dddd",
          preset: "1080p30",
        },
      ],
    });
    expect(request).toMatchObject({
      ChannelClass: "SINGLE_PIPELINE",
      InputAttachments: [{ InputId: "in-1" }],
    });
    expect(request.Destinations).toEqual([
      { Id: "dest-a", Settings: [{ Url: "rtmp://a.rtmp.youtube.com/live2", StreamName: "aaaa-bbbb" }] },
      { Id: "dest-b", Settings: [{ Url: "rtmp://live.twitch.tv/app", StreamName: "live_1_x" }] },
      { Id: "dest-c", Settings: [{ Url: "rtmp://a.rtmp.youtube.com/live2", StreamName: "cccc-dddd" }] },
    ]);
    const encoder = request.EncoderSettings;
    expect(encoder?.VideoDescriptions?.map((v) => v.Name)).toEqual(["video_1080p30", "video_720p30"]);
    expect(encoder?.OutputGroups).toHaveLength(3);
    const outputs = encoder?.OutputGroups?.flatMap((g) => g.Outputs ?? []) ?? [];
    expect(
      outputs.map((o) => [
        o.OutputSettings?.RtmpOutputSettings?.Destination?.DestinationRefId,
        o.VideoDescriptionName,
      ]),
    ).toEqual([
      ["dest-a", "video_1080p30"],
      ["dest-b", "video_720p30"],
      ["dest-c", "video_1080p30"],
    ]);
    expect(sharedChannelSettings([]).Destinations).toEqual([]);
  });

  it("names the destinations a change interrupts: the others on the channel or on their way to it", () => {
    const ds = [
      { destinationId: "a", status: "running", wanted: "running" },
      { destinationId: "b", status: "restarting", wanted: "running" },
      { destinationId: "c", status: "idle", wanted: "idle" },
      { destinationId: "d", status: "starting", wanted: "running" },
      { destinationId: "e", status: "stopping", wanted: "idle" },
      { destinationId: "f", status: "error", wanted: "idle" },
    ] as Destination[];
    expect(interruptedBy(ds, "a")).toEqual(["b", "d"]);
    expect(interruptedBy(ds, "c")).toEqual(["a", "b", "d"]);
  });
});
