import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { MAX_ALERTS_PER_CHANNEL, syncAlerts } from "#local/simulator/medialive/alerts.ts";
import type { MlAlert, MlChannel } from "#local/simulator/store.ts";
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

/** Collects the simulator's events until the test unsubscribes. */
function collectEvents(s: Simulator = sim) {
  const events: SimEvent[] = [];
  const unsubscribe = s.onEvent((e) => {
    events.push(e);
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
    const { events, unsubscribe } = collectEvents();
    try {
      await refuse(YOUTUBE, true);
      await until(
        async () => events.length,
        (n) => n === 1,
      );
      // Other changes recompute the alerts: no second SET.
      const inputId = (await describeChannel(id)).InputAttachments?.[0]?.InputId;
      await admin(sim.url, "POST", "/_sim/sources", { inputId, pushing: false });
      await admin(sim.url, "POST", "/_sim/sources", { inputId, pushing: true });
      await refuse(YOUTUBE, true);
      const [alert] = await listAlerts(id);
      await refuse(YOUTUBE, false);
      await until(
        async () => events.length,
        (n) => n === 2,
      );
      await stopChannel(id); // already cleared: nothing more
      await new Promise((r) => setTimeout(r, 20));

      expect(events).toHaveLength(2);
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
