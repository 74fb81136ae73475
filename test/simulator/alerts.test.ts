import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateFlowCommand, StartFlowCommand } from "@aws-sdk/client-mediaconnect";
import {
  type ChannelAlert,
  CreateChannelCommand,
  CreateInputCommand,
  DeleteChannelCommand,
  DescribeChannelCommand,
  ListAlertsCommand,
  type ListAlertsCommandInput,
  StartChannelCommand,
  StopChannelCommand,
} from "@aws-sdk/client-medialive";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type SimEvent, type Simulator, startSimulator } from "#local/simulator/index.ts";
import {
  MAX_ALERTS_PER_CHANNEL,
  NO_INPUT_ALERT,
  NO_REFUSALS,
  OUTPUT_REFUSED_ALERT,
  syncAlerts,
} from "#local/simulator/medialive/alerts.ts";
import type { MlAlert, MlChannel, MlInput } from "#local/simulator/store.ts";
import { admin, channelInput, clients, expectAwsError, rtmpDestination, until } from "./helpers.ts";

let sim: Simulator;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  // 0.002: channel CREATING 20 ms, STARTING 150 ms, STOPPING 60 ms; DELETED kept 1.2 s.
  sim = await startSimulator({ timeScale: 0.002 });
  c = clients(sim.url);
});
afterAll(async () => {
  for (const client of Object.values(c)) client.destroy();
  await sim.close();
});
beforeEach(async () => {
  await admin(sim.url, "POST", "/_sim/reset");
});

const YOUTUBE = "rtmp://a.rtmp.youtube.com/live2";
const STREAM_KEY = "yt-secret-stream-key-1234";
const HEX_ID = /^[0-9a-f]{40}$/;
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const describeChannel = (id: string) => c.ml.send(new DescribeChannelCommand({ ChannelId: id }));
const refuse = (url: string, refused: boolean) =>
  admin(sim.url, "POST", "/_sim/ingest/refuse", { url, refuse: refused });
const listAlerts = async (ChannelId: string, extra: Partial<ListAlertsCommandInput> = {}) =>
  (await c.ml.send(new ListAlertsCommand({ ChannelId, ...extra }))).Alerts ?? [];

/** A RUNNING SINGLE_PIPELINE channel on a fresh RTMP_PUSH input, pushing to url with the stream name. */
async function runningChannel(url = YOUTUBE, streamName = STREAM_KEY) {
  const input = await c.ml.send(
    new CreateInputCommand({ Name: "obs", Type: "RTMP_PUSH", Destinations: [{ StreamName: "live/cam" }] }),
  );
  const res = await c.ml.send(
    new CreateChannelCommand(
      channelInput(input.Input?.Id ?? "", { Destinations: [rtmpDestination(1, url, streamName)] }),
    ),
  );
  const id = res.Channel?.Id ?? "";
  await until(
    () => describeChannel(id),
    (d) => d.State === "IDLE",
  );
  await c.ml.send(new StartChannelCommand({ ChannelId: id }));
  await until(
    () => describeChannel(id),
    (d) => d.State === "RUNNING",
  );
  return { id, arn: res.Channel?.Arn ?? "" };
}

async function stopChannel(id: string) {
  await c.ml.send(new StopChannelCommand({ ChannelId: id }));
  await until(
    () => describeChannel(id),
    (d) => d.State === "IDLE",
  );
}

/**
 * Collects the simulator's "MediaLive Channel Alert" events until the test unsubscribes (the
 * channel state changes these tests go through send their own events: state-events.test.ts).
 */
function collectEvents(s: Simulator = sim) {
  const events: SimEvent[] = [];
  const unsubscribe = s.onEvent((e) => {
    if (e["detail-type"] === "MediaLive Channel Alert") events.push(e);
  });
  return { events, unsubscribe };
}

describe("MediaLive channel alerts (ListAlerts)", () => {
  it("sets one alert on a running channel pushing to a refused url; its message names the output's path (url and stream name), as AWS's example does", async () => {
    const { id } = await runningChannel();
    expect(await listAlerts(id)).toEqual([]);
    const before = Date.now();
    await refuse(YOUTUBE, true);
    await refuse(YOUTUBE, true); // still refused: the same alert, not a second one

    const set = await listAlerts(id, { StateFilter: "SET" });
    expect(set).toHaveLength(1);
    const alert = set[0] as ChannelAlert;
    expect(alert).toMatchObject({
      AlertType: "Failed to Create Output File or Socket",
      PipelineId: "0",
      State: "SET",
    });
    expect(alert.Id).toMatch(HEX_ID);
    expect(alert.Message).toContain(`[${YOUTUBE}/${STREAM_KEY}]`);
    expect(alert.SetTimestamp).toBeInstanceOf(Date);
    expect(alert.SetTimestamp?.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(alert.ClearedTimestamp).toBeUndefined();
    expect(await listAlerts(id, { StateFilter: "CLEARED" })).toEqual([]);
    expect(await listAlerts(id)).toEqual(set);
  });

  it("clears the alert when the url accepts again (ClearedTimestamp); a new refusal is a new alert", async () => {
    const { id } = await runningChannel();
    await refuse(YOUTUBE, true);
    const [first] = await listAlerts(id, { StateFilter: "SET" });
    await refuse(YOUTUBE, false);

    expect(await listAlerts(id, { StateFilter: "SET" })).toEqual([]);
    const cleared = await listAlerts(id, { StateFilter: "CLEARED" });
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({ Id: first?.Id, State: "CLEARED", Message: first?.Message });
    expect(cleared[0]?.ClearedTimestamp).toBeInstanceOf(Date);
    expect(cleared[0]?.ClearedTimestamp?.getTime()).toBeGreaterThanOrEqual(
      first?.SetTimestamp?.getTime() ?? 0,
    );

    await refuse(YOUTUBE, true);
    const [second] = await listAlerts(id, { StateFilter: "SET" });
    expect(second?.Id).toMatch(HEX_ID);
    expect(second?.Id).not.toBe(first?.Id);
    // Oldest first, paged like the other List operations.
    expect((await listAlerts(id)).map((a) => a.Id)).toEqual([first?.Id, second?.Id]);
    const page1 = await c.ml.send(new ListAlertsCommand({ ChannelId: id, MaxResults: 1 }));
    expect(page1.Alerts?.map((a) => a.Id)).toEqual([first?.Id]);
    expect(page1.NextToken).toBeTruthy();
    const page2 = await c.ml.send(
      new ListAlertsCommand({ ChannelId: id, MaxResults: 1, NextToken: page1.NextToken }),
    );
    expect(page2.Alerts?.map((a) => a.Id)).toEqual([second?.Id]);
    expect(page2.NextToken).toBeUndefined();
  });

  it("clears the alert when the channel stops, sets one when it starts while refused, keeps them while DELETED", async () => {
    const { id } = await runningChannel();
    await refuse(YOUTUBE, true);
    const [set] = await listAlerts(id, { StateFilter: "SET" });
    await c.ml.send(new StopChannelCommand({ ChannelId: id }));
    // STOPPING already: the channel has left RUNNING.
    const cleared = await listAlerts(id);
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({ Id: set?.Id, State: "CLEARED" });
    await until(
      () => describeChannel(id),
      (d) => d.State === "IDLE",
    );
    expect(await listAlerts(id, { StateFilter: "SET" })).toEqual([]);

    // Started again while the url still refuses: a new alert once RUNNING.
    await c.ml.send(new StartChannelCommand({ ChannelId: id }));
    expect(await listAlerts(id, { StateFilter: "SET" })).toEqual([]); // STARTING: not pushing yet
    const [again] = await until(
      () => listAlerts(id, { StateFilter: "SET" }),
      (a) => a.length === 1,
    );
    expect(again?.Id).not.toBe(set?.Id);

    await stopChannel(id);
    await c.ml.send(new DeleteChannelCommand({ ChannelId: id }));
    await until(
      () => describeChannel(id),
      (d) => d.State === "DELETED",
    );
    // A DELETED channel answers ListAlerts as it answers DescribeChannel; once purged, neither does.
    expect((await listAlerts(id)).map((a) => a.State)).toEqual(["CLEARED", "CLEARED"]);
    await until(
      async () => sim.resources().medialive.channels.some((ch) => ch.id === id),
      (present) => !present,
    );
    await expectAwsError(c.ml.send(new ListAlertsCommand({ ChannelId: id })), "NotFoundException", 404);
  });

  it("answers NotFoundException for an unknown channel and BadRequestException for an unknown stateFilter", async () => {
    const e = await expectAwsError(
      c.ml.send(new ListAlertsCommand({ ChannelId: "9999999" })),
      "NotFoundException",
      404,
    );
    expect(e.message).toContain("9999999");
    const { id } = await runningChannel();
    expect(await listAlerts(id, { StateFilter: "ALL" })).toEqual([]);
    await expectAwsError(
      c.ml.send(new ListAlertsCommand({ ChannelId: id, StateFilter: "ACTIVE" })),
      "BadRequestException",
      400,
    );
  });

  it("goes through fault injection and is recorded in /_sim/calls", async () => {
    const { id } = await runningChannel();
    const fault = await admin(sim.url, "POST", "/_sim/faults", {
      service: "medialive",
      operation: "ListAlerts",
      error: "TooManyRequestsException",
      message: "slow down",
    });
    expect(fault.status).toBe(201);
    const e = await expectAwsError(
      c.ml.send(new ListAlertsCommand({ ChannelId: id })),
      "TooManyRequestsException",
      429,
    );
    expect(e.message).toBe("slow down");
    expect(await listAlerts(id)).toEqual([]); // applied once
    const calls = await admin(sim.url, "GET", "/_sim/calls?service=medialive&operation=ListAlerts");
    expect(calls.body.count).toBe(2);
    expect(
      (calls.body.calls as { status: number; error?: string }[]).map((x) => [x.status, x.error]),
    ).toEqual([
      [429, "TooManyRequestsException"],
      [200, undefined],
    ]);
  });
});

describe("events out of the simulator (onEvent)", () => {
  it("sends exactly one SET and one CLEARED 'MediaLive Channel Alert' event, shaped like AWS's", async () => {
    const { id, arn } = await runningChannel();
    const { events: all, unsubscribe } = collectEvents();
    // Toggling the input below raises and clears the silent-input alert too (its own tests are
    // further down): only the refusal's events are counted here.
    const refusals = async () => all.filter((e) => e.detail.alert_type === OUTPUT_REFUSED_ALERT);
    try {
      await refuse(YOUTUBE, true);
      await until(refusals, (e) => e.length === 1);
      // Other changes recompute the alerts: no second SET.
      const inputId = (await describeChannel(id)).InputAttachments?.[0]?.InputId;
      await admin(sim.url, "POST", "/_sim/sources", { inputId, pushing: false });
      await admin(sim.url, "POST", "/_sim/sources", { inputId, pushing: true });
      await refuse(YOUTUBE, true);
      const [alert] = await listAlerts(id, { StateFilter: "SET" });
      await refuse(YOUTUBE, false);
      await until(refusals, (e) => e.length === 2);
      await stopChannel(id); // already cleared: nothing more
      await new Promise((r) => setTimeout(r, 20));

      const events = await refusals();
      expect(events).toHaveLength(2);
      expect(all).toHaveLength(4); // + the silent input's SET and CLEARED
      const [set, cleared] = events;
      for (const [event, state] of [
        [set, "SET"],
        [cleared, "CLEARED"],
      ] as const) {
        expect(event).toEqual({
          version: "0",
          id: expect.stringMatching(UUID),
          "detail-type": "MediaLive Channel Alert",
          source: "aws.medialive",
          account: "000000000000",
          time: expect.stringMatching(EVENT_TIME),
          region: "us-east-1",
          resources: [arn],
          detail: {
            alarm_state: state,
            alarm_id: alert?.Id,
            alert_type: "Failed to Create Output File or Socket",
            pipeline: "0",
            channel_arn: arn,
            message: alert?.Message,
          },
        });
      }
      expect(set?.id).not.toBe(cleared?.id);
      expect(Date.parse(set?.time ?? "")).toBe(
        Math.floor((alert?.SetTimestamp?.getTime() ?? 0) / 1000) * 1000,
      );
    } finally {
      unsubscribe();
    }
  });

  it("delivers asynchronously, survives a throwing listener, and stops after unsubscribe", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { id } = await runningChannel();
    const throwing = sim.onEvent(() => {
      throw new Error("listener bug");
    });
    const rejecting = sim.onEvent(async () => {
      throw new Error("async listener bug");
    });
    const { events, unsubscribe } = collectEvents();
    try {
      const answer = await refuse(YOUTUBE, true);
      expect(answer).toEqual({ status: 200, body: { url: YOUTUBE, refused: true } });
      await until(
        async () => events.length,
        (n) => n === 1,
      );
      await until(
        async () => errors.mock.calls.length,
        (n) => n === 2,
      );
      expect((await listAlerts(id, { StateFilter: "SET" })).length).toBe(1);

      unsubscribe();
      await refuse(YOUTUBE, false);
      expect(await listAlerts(id, { StateFilter: "SET" })).toEqual([]);
      await new Promise((r) => setTimeout(r, 20));
      expect(events).toHaveLength(1);
    } finally {
      throwing();
      rejecting();
      unsubscribe();
      errors.mockRestore();
    }
  });

  it("keeps alerts across a restart (statePath) without sending events for them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "castflow-sim-"));
    const statePath = join(dir, "state.json");
    try {
      const first = await startSimulator({ timeScale: 0.002, statePath });
      let cl = clients(first.url);
      const input = await cl.ml.send(
        new CreateInputCommand({ Type: "RTMP_PUSH", Destinations: [{ StreamName: "live/a" }] }),
      );
      const created = await cl.ml.send(
        new CreateChannelCommand(
          channelInput(input.Input?.Id ?? "", { Destinations: [rtmpDestination(1, YOUTUBE, STREAM_KEY)] }),
        ),
      );
      const id = created.Channel?.Id ?? "";
      await until(
        () => cl.ml.send(new DescribeChannelCommand({ ChannelId: id })),
        (d) => d.State === "IDLE",
      );
      await cl.ml.send(new StartChannelCommand({ ChannelId: id }));
      await until(
        () => cl.ml.send(new DescribeChannelCommand({ ChannelId: id })),
        (d) => d.State === "RUNNING",
      );
      await admin(first.url, "POST", "/_sim/ingest/refuse", { url: YOUTUBE, refuse: true });
      const saved = (await cl.ml.send(new ListAlertsCommand({ ChannelId: id }))).Alerts ?? [];
      expect(saved).toHaveLength(1);
      for (const client of Object.values(cl)) client.destroy();
      await first.close();

      const second = await startSimulator({ timeScale: 0.002, statePath });
      cl = clients(second.url);
      const { events, unsubscribe } = collectEvents(second);
      try {
        expect((await cl.ml.send(new ListAlertsCommand({ ChannelId: id }))).Alerts).toEqual(saved);
        await admin(second.url, "POST", "/_sim/ingest/refuse", { url: YOUTUBE, refuse: false });
        await until(
          async () => events.length,
          (n) => n === 1,
        );
        expect(events[0]?.detail).toMatchObject({ alarm_state: "CLEARED", alarm_id: saved[0]?.Id });
      } finally {
        unsubscribe();
        for (const client of Object.values(cl)) client.destroy();
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("'RTMP Has No Audio/Video' alerts (a silent push input, /_sim/sources inputId)", () => {
  const pushing = (inputId: string, value: boolean) =>
    admin(sim.url, "POST", "/_sim/sources", { inputId, pushing: value });
  const noInput = async (id: string, extra: Partial<ListAlertsCommandInput> = {}) =>
    (await listAlerts(id, extra)).filter((a) => a.AlertType === NO_INPUT_ALERT);

  /** An IDLE channel of the class on a fresh RTMP_PUSH input (one endpoint per pipeline), pushing to YouTube. */
  async function idleChannel(channelClass: "SINGLE_PIPELINE" | "STANDARD" = "SINGLE_PIPELINE") {
    const pipelines = channelClass === "STANDARD" ? 2 : 1;
    const input = await c.ml.send(
      new CreateInputCommand({
        Name: "obs",
        Type: "RTMP_PUSH",
        Destinations: Array.from({ length: pipelines }, (_, i) => ({ StreamName: `live/cam${i}` })),
      }),
    );
    const inputId = input.Input?.Id ?? "";
    const res = await c.ml.send(
      new CreateChannelCommand(
        channelInput(inputId, {
          ChannelClass: channelClass,
          Destinations: [rtmpDestination(pipelines, YOUTUBE, STREAM_KEY)],
        }),
      ),
    );
    const id = res.Channel?.Id ?? "";
    await until(
      () => describeChannel(id),
      (d) => d.State === "IDLE",
    );
    return { id, arn: res.Channel?.Arn ?? "", inputId };
  }
  async function startChannel(id: string) {
    await c.ml.send(new StartChannelCommand({ ChannelId: id }));
    await until(
      () => describeChannel(id),
      (d) => d.State === "RUNNING",
    );
  }

  it("sets one alert on a running SINGLE_PIPELINE channel whose input goes silent; the message names the input, no secret", async () => {
    const { id, inputId } = await idleChannel();
    await startChannel(id);
    expect(await listAlerts(id)).toEqual([]); // pushing by default
    const before = Date.now();
    expect((await pushing(inputId, false)).status).toBe(200);
    await pushing(inputId, false); // still silent: the same alert, not a second one

    const set = await listAlerts(id, { StateFilter: "SET" });
    expect(set).toHaveLength(1);
    const alert = set[0] as ChannelAlert;
    expect(alert).toMatchObject({
      AlertType: "RTMP Has No Audio/Video",
      PipelineId: "0",
      State: "SET",
      Message: `Waiting for RTMP input: no audio or video received on input ${inputId}`,
    });
    expect(alert.Id).toMatch(HEX_ID);
    expect(alert.Message).not.toContain(STREAM_KEY);
    expect(alert.SetTimestamp).toBeInstanceOf(Date);
    expect(alert.SetTimestamp?.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(alert.SetTimestamp?.getTime()).toBeLessThanOrEqual(Date.now() + 5);
    expect(alert.ClearedTimestamp).toBeUndefined();
    expect(await listAlerts(id, { StateFilter: "CLEARED" })).toEqual([]);
    expect(await listAlerts(id)).toEqual(set);
  });

  it("clears the alert when the input pushes again (ClearedTimestamp); a new loss is a new alert", async () => {
    const { id, inputId } = await idleChannel();
    await startChannel(id);
    await pushing(inputId, false);
    const [first] = await listAlerts(id, { StateFilter: "SET" });
    await pushing(inputId, true);

    expect(await listAlerts(id, { StateFilter: "SET" })).toEqual([]);
    const cleared = await listAlerts(id, { StateFilter: "CLEARED" });
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({
      Id: first?.Id,
      AlertType: NO_INPUT_ALERT,
      PipelineId: "0",
      State: "CLEARED",
      Message: first?.Message,
      SetTimestamp: first?.SetTimestamp,
    });
    expect(cleared[0]?.ClearedTimestamp).toBeInstanceOf(Date);
    expect(cleared[0]?.ClearedTimestamp?.getTime()).toBeGreaterThanOrEqual(
      first?.SetTimestamp?.getTime() ?? 0,
    );

    await pushing(inputId, false);
    const [second] = await listAlerts(id, { StateFilter: "SET" });
    expect(second?.Id).toMatch(HEX_ID);
    expect(second?.Id).not.toBe(first?.Id);
    expect((await listAlerts(id)).map((a) => [a.Id, a.State])).toEqual([
      [first?.Id, "CLEARED"],
      [second?.Id, "SET"],
    ]);
  });

  it("sets one alert per pipeline on a STANDARD channel started with its input already silent, and clears them when the channel stops", async () => {
    const { id, inputId } = await idleChannel("STANDARD");
    await pushing(inputId, false);
    expect(await listAlerts(id)).toEqual([]); // IDLE: nothing to receive
    await c.ml.send(new StartChannelCommand({ ChannelId: id }));
    expect(await listAlerts(id)).toEqual([]); // STARTING: not yet
    const set = await until(
      () => listAlerts(id, { StateFilter: "SET" }),
      (a) => a.length === 2,
    );
    expect((await describeChannel(id)).State).toBe("RUNNING");
    expect(set.map((a) => [a.AlertType, a.PipelineId, a.State])).toEqual([
      [NO_INPUT_ALERT, "0", "SET"],
      [NO_INPUT_ALERT, "1", "SET"],
    ]);
    expect(set[0]?.Id).not.toBe(set[1]?.Id);
    expect(set[0]?.SetTimestamp).toEqual(set[1]?.SetTimestamp);
    expect(new Set(set.map((a) => a.Message))).toEqual(
      new Set([`Waiting for RTMP input: no audio or video received on input ${inputId}`]),
    );

    await c.ml.send(new StopChannelCommand({ ChannelId: id }));
    // STOPPING already: the channel has left RUNNING, though the input is still silent.
    const cleared = await listAlerts(id);
    expect(cleared.map((a) => [a.Id, a.PipelineId, a.State])).toEqual([
      [set[0]?.Id, "0", "CLEARED"],
      [set[1]?.Id, "1", "CLEARED"],
    ]);
    for (const a of cleared) expect(a.ClearedTimestamp).toBeInstanceOf(Date);
    await until(
      () => describeChannel(id),
      (d) => d.State === "IDLE",
    );
    expect(await listAlerts(id, { StateFilter: "SET" })).toEqual([]);

    // Started again, still silent: new alerts once RUNNING.
    await startChannel(id);
    const again = await listAlerts(id, { StateFilter: "SET" });
    expect(again.map((a) => a.PipelineId)).toEqual(["0", "1"]);
    expect(again.map((a) => a.Id).some((x) => set.some((a) => a.Id === x))).toBe(false);
  });

  it("sends one SET and one CLEARED 'MediaLive Channel Alert' event per pipeline, shaped like the other alert's", async () => {
    const { id, arn, inputId } = await idleChannel("STANDARD");
    await startChannel(id);
    const { events, unsubscribe } = collectEvents();
    try {
      await pushing(inputId, false);
      await pushing(inputId, false); // no change: no event
      await until(
        async () => events.length,
        (n) => n === 2,
      );
      const alerts = await listAlerts(id);
      await pushing(inputId, true);
      await until(
        async () => events.length,
        (n) => n === 4,
      );
      await stopChannel(id); // already cleared: nothing more
      await new Promise((r) => setTimeout(r, 20));

      expect(events).toHaveLength(4);
      const message = `Waiting for RTMP input: no audio or video received on input ${inputId}`;
      const expected = (state: "SET" | "CLEARED", pipeline: number) => ({
        version: "0",
        id: expect.stringMatching(UUID),
        "detail-type": "MediaLive Channel Alert",
        source: "aws.medialive",
        account: "000000000000",
        time: expect.stringMatching(EVENT_TIME),
        region: "us-east-1",
        resources: [arn],
        detail: {
          alarm_state: state,
          alarm_id: alerts[pipeline]?.Id,
          alert_type: "RTMP Has No Audio/Video",
          pipeline: String(pipeline),
          channel_arn: arn,
          message,
        },
      });
      expect(events).toEqual([
        expected("SET", 0),
        expected("SET", 1),
        expected("CLEARED", 0),
        expected("CLEARED", 1),
      ]);
      expect(new Set(events.map((e) => e.id)).size).toBe(4);
      expect(Date.parse(events[0]?.time ?? "")).toBe(
        Math.floor((alerts[0]?.SetTimestamp?.getTime() ?? 0) / 1000) * 1000,
      );
    } finally {
      unsubscribe();
    }
  });

  it("lives beside an output refusal: each alert clears on its own cause", async () => {
    const { id, inputId } = await idleChannel();
    await startChannel(id);
    await refuse(YOUTUBE, true);
    await pushing(inputId, false);
    const set = await listAlerts(id, { StateFilter: "SET" });
    expect(set.map((a) => a.AlertType)).toEqual([OUTPUT_REFUSED_ALERT, NO_INPUT_ALERT]);

    await refuse(YOUTUBE, false);
    expect((await listAlerts(id, { StateFilter: "SET" })).map((a) => a.Id)).toEqual([set[1]?.Id]);
    await refuse(YOUTUBE, true);
    await pushing(inputId, true);
    const now = await listAlerts(id, { StateFilter: "SET" });
    expect(now.map((a) => a.AlertType)).toEqual([OUTPUT_REFUSED_ALERT]);
    expect(now[0]?.Id).not.toBe(set[0]?.Id);
    expect((await noInput(id)).map((a) => [a.Id, a.State])).toEqual([[set[1]?.Id, "CLEARED"]]);
  });

  it("raises nothing while the input pushes, nor for a MEDIACONNECT input whose flow delivers nothing", async () => {
    const { id, inputId } = await idleChannel();
    await startChannel(id);
    await pushing(inputId, true);
    await pushing(inputId, true);
    expect(await listAlerts(id)).toEqual([]);

    // A MEDIACONNECT input on a flow that is not started: the channel receives nothing, but
    // this alert is for RTMP inputs (and /_sim/sources refuses the input: its flow says).
    const flow = await c.mc.send(
      new CreateFlowCommand({
        Name: "cam-a",
        Source: { Name: "encoder", Protocol: "srt-listener", IngestPort: 5000 },
      }),
    );
    const flowArn = flow.Flow?.FlowArn ?? "";
    const mc = await c.ml.send(
      new CreateInputCommand({
        Name: "from-flow",
        Type: "MEDIACONNECT",
        MediaConnectFlows: [{ FlowArn: flowArn }],
        RoleArn: "arn:aws:iam::000000000000:role/MediaLiveAccessRole",
      }),
    );
    const mcInputId = mc.Input?.Id ?? "";
    expect((await pushing(mcInputId, false)).status).toBe(400);
    const res = await c.ml.send(
      new CreateChannelCommand(
        channelInput(mcInputId, { Destinations: [rtmpDestination(1, YOUTUBE, STREAM_KEY)] }),
      ),
    );
    const mcChannel = res.Channel?.Id ?? "";
    await until(
      () => describeChannel(mcChannel),
      (d) => d.State === "IDLE",
    );
    await startChannel(mcChannel);
    await admin(sim.url, "POST", "/_sim/sources", { flowArn, pushing: false });
    await c.mc.send(new StartFlowCommand({ FlowArn: flowArn }));
    await new Promise((r) => setTimeout(r, 60));
    expect(await listAlerts(mcChannel)).toEqual([]);
  });
});

describe("syncAlerts", () => {
  /** A channel in wire form whose one RTMP output pushes to url (SINGLE_PIPELINE). */
  const channel = (state: MlChannel["state"], url: string): MlChannel => ({
    id: "1234567",
    arn: "arn:aws:medialive:us-east-1:000000000000:channel:1234567",
    state,
    tags: {},
    spec: {
      channelClass: "SINGLE_PIPELINE",
      destinations: [{ id: "dest1", settings: [{ url, streamName: STREAM_KEY }] }],
      encoderSettings: {
        outputGroups: [
          {
            outputGroupSettings: { rtmpGroupSettings: {} },
            outputs: [
              { outputSettings: { rtmpOutputSettings: { destination: { destinationRefId: "dest1" } } } },
            ],
          },
        ],
      },
    },
  });

  it("clears an alert when the channel's settings stop pushing to the url, and is idempotent", () => {
    const refused = new Set([YOUTUBE]);
    const platform = { refuses: (url: string) => refused.has(url) };
    const alerts: Record<string, MlAlert[]> = {};
    const ch = channel("RUNNING", YOUTUBE);
    expect(syncAlerts(alerts, { [ch.id]: ch }, platform).map((t) => t.alert.state)).toEqual(["SET"]);
    expect(syncAlerts(alerts, { [ch.id]: ch }, platform)).toEqual([]);
    const moved = channel("RUNNING", "rtmp://live.twitch.tv/app");
    expect(syncAlerts(alerts, { [ch.id]: moved }, platform).map((t) => t.alert.state)).toEqual(["CLEARED"]);
    expect(alerts[ch.id]?.map((a) => a.state)).toEqual(["CLEARED"]);
    // The channel purged: its alerts go with it.
    syncAlerts(alerts, {}, platform);
    expect(alerts).toEqual({});
  });

  it("raises the silent-input alert only with the inputs given, for non-MEDIACONNECT inputs declared silent", () => {
    const alerts: Record<string, MlAlert[]> = {};
    const ch: MlChannel = {
      ...channel("RUNNING", YOUTUBE),
      spec: { ...channel("RUNNING", YOUTUBE).spec, inputAttachments: [{ inputId: "111" }] },
    };
    const input = (type: string, silent?: boolean): MlInput => ({
      id: "111",
      arn: "arn:aws:medialive:us-east-1:000000000000:input:111",
      spec: { type },
      destinations: [],
      inputClass: "SINGLE_INPUT",
      state: "ATTACHED",
      attachedChannels: [ch.id],
      ...(silent === undefined ? {} : { pushing: !silent }),
      tags: {},
    });
    const channels = { [ch.id]: ch };
    expect(syncAlerts(alerts, channels, NO_REFUSALS)).toEqual([]); // no inputs given
    expect(syncAlerts(alerts, channels, NO_REFUSALS, { 111: input("RTMP_PUSH") })).toEqual([]);
    expect(syncAlerts(alerts, channels, NO_REFUSALS, { 111: input("MEDIACONNECT", true) })).toEqual([]);
    const set = syncAlerts(alerts, channels, NO_REFUSALS, { 111: input("RTMP_PUSH", true) });
    expect(set.map((t) => [t.alert.alertType, t.alert.pipelineId, t.alert.state])).toEqual([
      [NO_INPUT_ALERT, "0", "SET"],
    ]);
    expect(syncAlerts(alerts, channels, NO_REFUSALS, { 111: input("RTMP_PUSH", true) })).toEqual([]);
    const idle = { [ch.id]: { ...ch, state: "IDLE" as const } };
    expect(
      syncAlerts(alerts, idle, NO_REFUSALS, { 111: input("RTMP_PUSH", true) }).map((t) => t.alert.state),
    ).toEqual(["CLEARED"]);
  });

  it(`keeps at most ${MAX_ALERTS_PER_CHANNEL} alerts per channel, dropping the oldest cleared ones`, () => {
    const refused = new Set<string>();
    const platform = { refuses: (url: string) => refused.has(url) };
    const alerts: Record<string, MlAlert[]> = {};
    const ch = channel("RUNNING", YOUTUBE);
    const ids: string[] = [];
    for (let i = 0; i < MAX_ALERTS_PER_CHANNEL + 5; i++) {
      refused.add(YOUTUBE);
      ids.push(syncAlerts(alerts, { [ch.id]: ch }, platform)[0]?.alert.id ?? "");
      refused.delete(YOUTUBE);
      syncAlerts(alerts, { [ch.id]: ch }, platform);
    }
    refused.add(YOUTUBE);
    const current = syncAlerts(alerts, { [ch.id]: ch }, platform)[0]?.alert.id;
    const kept = alerts[ch.id] ?? [];
    expect(kept).toHaveLength(MAX_ALERTS_PER_CHANNEL);
    expect(kept.at(-1)).toMatchObject({ id: current, state: "SET" });
    expect(kept.slice(0, -1).map((a) => a.id)).toEqual(ids.slice(-(MAX_ALERTS_PER_CHANNEL - 1)));
  });
});
