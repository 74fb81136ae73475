import {
  CreateFlowCommand,
  DeleteFlowCommand,
  DescribeFlowCommand,
  StartFlowCommand,
  StopFlowCommand,
} from "@aws-sdk/client-mediaconnect";
import {
  BatchStopCommand,
  CreateChannelCommand,
  CreateInputCommand,
  DeleteChannelCommand,
  DescribeChannelCommand,
  StartChannelCommand,
  StopChannelCommand,
  UpdateChannelCommand,
} from "@aws-sdk/client-medialive";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventTime, eventTimeAt } from "#local/simulator/events.ts";
import { type SimEvent, type Simulator, startSimulator } from "#local/simulator/index.ts";
import { admin, channelInput, clients, expectAwsError, rtmpDestination, until } from "./helpers.ts";

let sim: Simulator;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  // 0.002: channel CREATING 20 ms, STARTING 150 ms, STOPPING 60 ms, DELETING 40 ms, UPDATING 6 ms;
  // flow STARTING 40 ms, STOPPING 20 ms, DELETING 10 ms.
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

const CHANNEL_STATE = "MediaLive Channel State Change";
const FLOW_STATUS = "MediaConnect Flow Status Change";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TIME_S = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describeChannel = (id: string) => c.ml.send(new DescribeChannelCommand({ ChannelId: id }));
const force = (channelId: string, state: string, s: Simulator = sim) =>
  admin(s.url, "POST", "/_sim/medialive/channel-state", { channelId, state });
const addFault = (body: unknown) => admin(sim.url, "POST", "/_sim/faults", body);
const listFaults = async () =>
  (await admin(sim.url, "GET", "/_sim/faults")).body.faults as Record<string, unknown>[];

interface Received {
  event: SimEvent;
  at: number;
}

/** Records the events of one detail-type (all when omitted) and when each arrived. */
function collect(detailType?: string, s: Simulator = sim) {
  const received: Received[] = [];
  const unsubscribe = s.onEvent((event) => {
    if (detailType === undefined || event["detail-type"] === detailType)
      received.push({ event, at: Date.now() });
  });
  return {
    received,
    events: () => received.map((r) => r.event),
    states: () => received.map((r) => r.event.detail.state),
    unsubscribe,
  };
}

/** A new IDLE channel on a new RTMP_PUSH input (CREATED already delivered when this returns). */
async function idleChannel(channelClass: "SINGLE_PIPELINE" | "STANDARD" = "SINGLE_PIPELINE", s = sim) {
  const cl = s === sim ? c : clients(s.url);
  const pipelines = channelClass === "STANDARD" ? 2 : 1;
  const input = await cl.ml.send(
    new CreateInputCommand({
      Name: "obs",
      Type: "RTMP_PUSH",
      Destinations: Array.from({ length: pipelines }, (_, i) => ({ StreamName: `live/cam${i}` })),
    }),
  );
  const res = await cl.ml.send(
    new CreateChannelCommand(
      channelInput(input.Input?.Id ?? "", {
        ChannelClass: channelClass,
        Destinations: [rtmpDestination(pipelines)],
      }),
    ),
  );
  return { id: res.Channel?.Id ?? "", arn: res.Channel?.Arn ?? "", client: cl };
}

async function waitState(id: string, state: string) {
  await until(
    () => describeChannel(id),
    (d) => d.State === state,
  );
}

const stateEvent = (arn: string, state: string, message: string, pipelines = 0) => ({
  version: "0",
  id: expect.stringMatching(UUID),
  "detail-type": CHANNEL_STATE,
  source: "aws.medialive",
  account: "000000000000",
  time: expect.stringMatching(TIME_MS),
  region: "us-east-1",
  resources: [arn],
  detail: { channel_arn: arn, state, message, pipelines_running_count: pipelines },
});

describe("MediaLive Channel State Change events", () => {
  it("sends CREATED, STARTING, RUNNING, STOPPING, STOPPED, DELETING, DELETED, each after its state is applied", async () => {
    const seen: [unknown, unknown][] = [];
    const off = sim.onEvent((e) => {
      if (e["detail-type"] !== CHANNEL_STATE) return;
      // What the simulator shows while the listener runs: the change is already applied.
      const ch = sim.resources().medialive.channels.find((x) => x.arn === e.resources[0]);
      seen.push([e.detail.state, ch?.state]);
    });
    const { received, events, states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      const { id, arn } = await idleChannel("STANDARD");
      await waitState(id, "IDLE");
      await c.ml.send(new StartChannelCommand({ ChannelId: id }));
      await waitState(id, "RUNNING");
      await c.ml.send(new StopChannelCommand({ ChannelId: id }));
      await waitState(id, "IDLE");
      await c.ml.send(new DeleteChannelCommand({ ChannelId: id }));
      await c.ml.send(new DeleteChannelCommand({ ChannelId: id })); // already DELETING: no second event
      await waitState(id, "DELETED");
      await sleep(20);

      expect(states()).toEqual([
        "CREATED",
        "STARTING",
        "RUNNING",
        "STOPPING",
        "STOPPED",
        "DELETING",
        "DELETED",
      ]);
      expect(events()).toEqual([
        stateEvent(arn, "CREATED", "Created channel"),
        stateEvent(arn, "STARTING", "Starting channel"),
        stateEvent(arn, "RUNNING", "Started channel", 2),
        stateEvent(arn, "STOPPING", "Stopping channel"),
        stateEvent(arn, "STOPPED", "Stopped channel"),
        stateEvent(arn, "DELETING", "Deleting channel"),
        stateEvent(arn, "DELETED", "Deleted channel"),
      ]);
      expect(seen).toEqual([
        ["CREATED", "IDLE"],
        ["STARTING", "STARTING"],
        ["RUNNING", "RUNNING"],
        ["STOPPING", "STOPPING"],
        ["STOPPED", "IDLE"],
        ["DELETING", "DELETING"],
        ["DELETED", "DELETED"],
      ]);
      expect(new Set(events().map((e) => e.id)).size).toBe(7);
      // At timeScale 0.002 several transitions share a second: milliseconds keep them ordered.
      const times = events().map((e) => Date.parse(e.time));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(new Set(times).size).toBe(7);
      expect(received.length).toBe(7);
    } finally {
      unsubscribe();
      off();
    }
  });

  it("counts 1 running pipeline for a SINGLE_PIPELINE channel, and StopChannel through BatchStop sends STOPPING", async () => {
    const { id, arn } = await idleChannel("SINGLE_PIPELINE");
    await waitState(id, "IDLE");
    const { events, states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await c.ml.send(new StartChannelCommand({ ChannelId: id }));
      await waitState(id, "RUNNING");
      await c.ml.send(new BatchStopCommand({ ChannelIds: [id] }));
      await waitState(id, "IDLE");
      await sleep(10);
      expect(states()).toEqual(["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
      expect(events()[1]).toEqual(stateEvent(arn, "RUNNING", "Started channel", 1));
    } finally {
      unsubscribe();
    }
  });

  it("sends nothing for UpdateChannel (UPDATING and its end are not CloudWatch events), nor for a refused call", async () => {
    const { id } = await idleChannel();
    await waitState(id, "IDLE");
    const { states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      const updated = await c.ml.send(new UpdateChannelCommand({ ChannelId: id, Name: "renamed" }));
      expect(updated.Channel?.State).toBe("UPDATING");
      await waitState(id, "IDLE");
      await expectAwsError(c.ml.send(new StopChannelCommand({ ChannelId: id })), "ConflictException", 409);
      await sleep(20);
      expect(states()).toEqual([]);
      // The same subscription does hear the next real change.
      await c.ml.send(new StartChannelCommand({ ChannelId: id }));
      expect(states()).toEqual(["STARTING"]);
    } finally {
      unsubscribe();
    }
  });

  it("POST /_sim/medialive/channel-state sends the forced state's event: IDLE as STOPPED, none for CREATING or an unchanged state", async () => {
    const { id, arn } = await idleChannel("STANDARD");
    await waitState(id, "IDLE");
    const { events, states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      for (const state of [
        "RECOVERING",
        "RUNNING",
        "RUNNING",
        "IDLE",
        "CREATING",
        "CREATE_FAILED",
        "UPDATE_FAILED",
      ])
        expect((await force(id, state)).status).toBe(200);
      await sleep(10);
      expect(states()).toEqual(["RECOVERING", "RUNNING", "STOPPED", "CREATE_FAILED", "UPDATE_FAILED"]);
      expect(events()[1]).toEqual(stateEvent(arn, "RUNNING", "Started channel", 2));
      expect(events()[0]?.detail.pipelines_running_count).toBe(0);
    } finally {
      unsubscribe();
    }
  });
});

describe("MediaConnect Flow Status Change events", () => {
  const createFlow = async () =>
    (
      await c.mc.send(
        new CreateFlowCommand({
          Name: "cam-a",
          Source: {
            Name: "encoder",
            Protocol: "srt-listener",
            IngestPort: 5000,
            WhitelistCidr: "10.0.0.0/16",
          },
        }),
      )
    ).Flow?.FlowArn ?? "";
  const waitStatus = (arn: string, s: string) =>
    until(
      () => c.mc.send(new DescribeFlowCommand({ FlowArn: arn })),
      (r) => r.Flow?.Status === s,
    );

  it("sends {currentStatus, previousStatus} for start, stop and delete, none for the creation or the flow's disappearance", async () => {
    const { events, unsubscribe } = collect(FLOW_STATUS);
    try {
      const arn = await createFlow();
      await sleep(10);
      expect(events()).toEqual([]);
      await c.mc.send(new StartFlowCommand({ FlowArn: arn }));
      await waitStatus(arn, "ACTIVE");
      await c.mc.send(new StopFlowCommand({ FlowArn: arn }));
      await waitStatus(arn, "STANDBY");
      await c.mc.send(new DeleteFlowCommand({ FlowArn: arn }));
      await expectAwsError(
        until(
          () => c.mc.send(new DescribeFlowCommand({ FlowArn: arn })),
          () => false,
        ),
        "NotFoundException",
        404,
      );
      await sleep(10);
      expect(events().map((e) => [e.detail.previousStatus, e.detail.currentStatus])).toEqual([
        ["STANDBY", "STARTING"],
        ["STARTING", "ACTIVE"],
        ["ACTIVE", "STOPPING"],
        ["STOPPING", "STANDBY"],
        ["STANDBY", "DELETING"],
      ]);
      expect(events()[0]).toEqual({
        version: "0",
        id: expect.stringMatching(UUID),
        "detail-type": FLOW_STATUS,
        source: "aws.mediaconnect",
        account: "000000000000",
        time: expect.stringMatching(TIME_MS),
        region: "us-east-1",
        resources: [arn],
        detail: { currentStatus: "STARTING", previousStatus: "STANDBY" },
      });
    } finally {
      unsubscribe();
    }
  });

  it("a stop while STARTING goes STARTING -> STOPPING -> STANDBY, never ACTIVE", async () => {
    const arn = await createFlow();
    const { events, unsubscribe } = collect(FLOW_STATUS);
    try {
      await c.mc.send(new StartFlowCommand({ FlowArn: arn }));
      await c.mc.send(new StopFlowCommand({ FlowArn: arn }));
      await waitStatus(arn, "STANDBY");
      await sleep(60); // past the cancelled start
      expect(events().map((e) => [e.detail.previousStatus, e.detail.currentStatus])).toEqual([
        ["STANDBY", "STARTING"],
        ["STARTING", "STOPPING"],
        ["STOPPING", "STANDBY"],
      ]);
    } finally {
      unsubscribe();
    }
  });
});

describe("event time precision (eventTimeAt)", () => {
  it("keeps milliseconds below timeScale 1, whole seconds (EventBridge's format) from 1 up", () => {
    const iso = "2026-12-01T05:00:00.123Z";
    expect(eventTimeAt(iso, 0.01)).toBe("2026-12-01T05:00:00.123Z");
    expect(eventTimeAt(iso, 0)).toBe("2026-12-01T05:00:00.123Z");
    expect(eventTimeAt(iso, 0.999)).toBe("2026-12-01T05:00:00.123Z");
    expect(eventTimeAt(iso, 1)).toBe("2026-12-01T05:00:00Z");
    expect(eventTimeAt(iso, 3)).toBe("2026-12-01T05:00:00Z");
    expect(eventTimeAt(iso, 1)).toBe(eventTime(iso));
    expect(eventTimeAt("2026-12-01T05:00:00.000Z", 0.5)).toBe("2026-12-01T05:00:00.000Z");
  });

  it("a simulator at timeScale 1 sends state changes with whole seconds", async () => {
    const slow = await startSimulator({ timeScale: 1 });
    const { events, unsubscribe } = collect(undefined, slow);
    const { id, client } = await idleChannel("SINGLE_PIPELINE", slow);
    try {
      // CREATING lasts 10 s at this scale: force the channel along instead.
      await force(id, "RUNNING", slow);
      const flowArn =
        (
          await client.mc.send(
            new CreateFlowCommand({
              Name: "f",
              Source: { Name: "s", Protocol: "srt-listener", IngestPort: 5000 },
            }),
          )
        ).Flow?.FlowArn ?? "";
      await client.mc.send(new StartFlowCommand({ FlowArn: flowArn }));
      await sleep(10);
      expect(events().map((e) => e["detail-type"])).toEqual([CHANNEL_STATE, FLOW_STATUS]);
      for (const e of events()) expect(e.time).toMatch(TIME_S);
      expect(events()[0]?.detail).toMatchObject({ state: "RUNNING", pipelines_running_count: 1 });
    } finally {
      unsubscribe();
      for (const cl of Object.values(client)) cl.destroy();
      await slow.close();
    }
  });
});

describe("event faults (POST /_sim/faults with service: events)", () => {
  /** An IDLE channel whose own events are delivered: the stream starts empty. */
  async function quietChannel() {
    const ch = await idleChannel("SINGLE_PIPELINE");
    await waitState(ch.id, "IDLE");
    await sleep(5);
    return ch;
  }

  it("drop: the event never reaches any listener; once by default, then the fault is gone", async () => {
    const { id } = await quietChannel();
    const res = await addFault({ service: "events", action: "drop" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      service: "events",
      action: "drop",
      id: expect.stringMatching(UUID),
      hits: 0,
      remaining: 1,
    });
    const a = collect(CHANNEL_STATE);
    const b = collect(CHANNEL_STATE);
    try {
      await force(id, "RECOVERING");
      await force(id, "RUNNING");
      await sleep(30);
      expect(a.states()).toEqual(["RUNNING"]);
      expect(b.states()).toEqual(["RUNNING"]);
      expect(await listFaults()).toEqual([]);
    } finally {
      a.unsubscribe();
      b.unsubscribe();
    }
  });

  it("detailType limits a fault to one kind of event", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "drop", detailType: FLOW_STATUS, rate: 1 });
    const { states, unsubscribe } = collect();
    try {
      await force(id, "RECOVERING");
      const arn =
        (
          await c.mc.send(
            new CreateFlowCommand({
              Name: "f",
              Source: { Name: "s", Protocol: "srt-listener", IngestPort: 5000 },
            }),
          )
        ).Flow?.FlowArn ?? "";
      await c.mc.send(new StartFlowCommand({ FlowArn: arn }));
      await sleep(80); // past ACTIVE
      expect(states()).toEqual(["RECOVERING"]);
      const [fault] = await listFaults();
      expect(fault).toMatchObject({ action: "drop", detailType: FLOW_STATUS, rate: 1, hits: 2 });
    } finally {
      unsubscribe();
    }
  });

  it("delay: the event arrives delayMs later, after the events that followed it", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "delay", delayMs: 150 });
    const { received, states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      const t0 = Date.now();
      await force(id, "RECOVERING");
      await force(id, "RUNNING");
      expect(states()).toEqual(["RUNNING"]);
      await until(
        async () => received.length,
        (n) => n === 2,
      );
      expect(states()).toEqual(["RUNNING", "RECOVERING"]);
      expect((received[1]?.at ?? 0) - t0).toBeGreaterThanOrEqual(145);
    } finally {
      unsubscribe();
    }
  });

  it("duplicate: the same event (same id) twice, the copy delayMs later", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "duplicate", delayMs: 100 });
    const { received, events, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await force(id, "RECOVERING");
      expect(received).toHaveLength(1);
      await until(
        async () => received.length,
        (n) => n === 2,
      );
      const [first, copy] = events();
      expect(copy).toEqual(first);
      expect(copy?.id).toBe(first?.id);
      expect((received[1]?.at ?? 0) - (received[0]?.at ?? 0)).toBeGreaterThanOrEqual(95);
      await sleep(30);
      expect(received).toHaveLength(2);
    } finally {
      unsubscribe();
    }
  });

  it("duplicate without delayMs: the copy comes on the next macrotask", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "duplicate" });
    const { events, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await force(id, "RECOVERING");
      await sleep(5);
      expect(events().map((e) => e.detail.state)).toEqual(["RECOVERING", "RECOVERING"]);
      expect(events()[0]?.id).toBe(events()[1]?.id);
    } finally {
      unsubscribe();
    }
  });

  it("reorder: the event is held until the next one, so the two arrive swapped", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "reorder" });
    const { states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await force(id, "RECOVERING");
      await sleep(50);
      expect(states()).toEqual([]); // held (default window 1000 ms)
      await force(id, "RUNNING");
      await force(id, "IDLE");
      await sleep(5);
      expect(states()).toEqual(["RUNNING", "RECOVERING", "STOPPED"]);
    } finally {
      unsubscribe();
    }
  });

  it("reorder: without a next event, the held one is delivered once delayMs ends", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "reorder", delayMs: 100 });
    const { received, states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      const t0 = Date.now();
      await force(id, "RECOVERING");
      await sleep(40);
      expect(states()).toEqual([]);
      await until(
        async () => received.length,
        (n) => n === 1,
      );
      expect((received[0]?.at ?? 0) - t0).toBeGreaterThanOrEqual(95);
      await force(id, "RUNNING");
      await sleep(5);
      expect(states()).toEqual(["RECOVERING", "RUNNING"]);
    } finally {
      unsubscribe();
    }
  });

  it("times: the next N matching events, counted in hits and remaining", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "drop", times: 2 });
    const { states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await force(id, "RECOVERING");
      expect(await listFaults()).toEqual([
        expect.objectContaining({ action: "drop", times: 2, hits: 1, remaining: 1 }),
      ]);
      await force(id, "RUNNING");
      await force(id, "IDLE");
      await sleep(5);
      expect(states()).toEqual(["STOPPED"]);
      expect(await listFaults()).toEqual([]);
    } finally {
      unsubscribe();
    }
  });

  it("rate: 1 hits every event until cleared, 0 none; one draw per event, shared by every listener", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "drop", rate: 0 });
    await addFault({ service: "events", action: "drop", rate: 1 });
    const { states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await force(id, "RECOVERING");
      await force(id, "RUNNING");
      await sleep(5);
      expect(states()).toEqual([]);
      expect((await listFaults()).map((f) => f.hits)).toEqual([0, 2]);
      await admin(sim.url, "DELETE", "/_sim/faults");
      await force(id, "IDLE");
      await sleep(5);
      expect(states()).toEqual(["STOPPED"]);
    } finally {
      unsubscribe();
    }

    await addFault({ service: "events", action: "drop", rate: 0.5 });
    const a = collect(CHANNEL_STATE);
    const b = collect(CHANNEL_STATE);
    try {
      for (let i = 0; i < 20; i++) await force(id, i % 2 === 0 ? "RECOVERING" : "RUNNING");
      await sleep(5);
      const ids = (x: ReturnType<typeof collect>) => x.events().map((e) => e.id);
      expect(ids(a)).toEqual(ids(b));
      expect(a.received.length).toBeGreaterThan(0);
      expect(a.received.length).toBeLessThan(20);
      const [fault] = await listFaults();
      expect(fault?.hits).toBe(20 - a.received.length);
    } finally {
      a.unsubscribe();
      b.unsubscribe();
    }
  });

  it("lists event faults with API faults, in the order they were added", async () => {
    await addFault({ service: "medialive", operation: "StartChannel", error: "ConflictException" });
    await addFault({
      service: "events",
      action: "reorder",
      detailType: CHANNEL_STATE,
      times: 3,
      delayMs: 500,
    });
    const faults = await listFaults();
    expect(faults).toEqual([
      expect.objectContaining({ service: "medialive", operation: "StartChannel", hits: 0 }),
      {
        service: "events",
        action: "reorder",
        detailType: CHANNEL_STATE,
        times: 3,
        delayMs: 500,
        id: expect.stringMatching(UUID),
        hits: 0,
        remaining: 3,
      },
    ]);
  });

  it("DELETE /_sim/faults and POST /_sim/reset clear event faults and cancel held and delayed deliveries", async () => {
    const { id } = await quietChannel();
    const { states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await addFault({ service: "events", action: "reorder", delayMs: 60 });
      await force(id, "RECOVERING");
      await addFault({ service: "events", action: "duplicate", delayMs: 60 });
      await force(id, "RUNNING"); // releases RECOVERING, delivers RUNNING, its copy pending
      expect(states()).toEqual(["RUNNING", "RECOVERING"]);
      await addFault({ service: "events", action: "reorder", delayMs: 60 });
      await force(id, "IDLE"); // held
      expect((await admin(sim.url, "DELETE", "/_sim/faults")).body).toEqual({ faults: [] });
      await sleep(120);
      expect(states()).toEqual(["RUNNING", "RECOVERING"]); // neither the copy nor the held STOPPED
      await force(id, "RUNNING");
      await sleep(5);
      expect(states()).toEqual(["RUNNING", "RECOVERING", "RUNNING"]);

      await addFault({ service: "events", action: "delay", delayMs: 60, rate: 1 });
      await force(id, "IDLE");
      await admin(sim.url, "POST", "/_sim/reset");
      await sleep(120);
      expect(states()).toEqual(["RUNNING", "RECOVERING", "RUNNING"]);
      expect(await listFaults()).toEqual([]);
    } finally {
      unsubscribe();
    }
  });

  it.each([
    [{ service: "events" }, "action"],
    [{ service: "events", action: "explode" }, "action"],
    [{ service: "events", action: "delay" }, "delayMs"],
    [{ service: "events", action: "drop", delayMs: 10 }, "delayMs"],
    [{ service: "events", action: "delay", delayMs: -1 }, "delayMs"],
    [{ service: "events", action: "delay", delayMs: 120_001 }, "delayMs"],
    [{ service: "events", action: "delay", delayMs: 1.5 }, "delayMs"],
    [{ service: "events", action: "drop", operation: "StartChannel" }, "operation"],
    [{ service: "events", action: "drop", error: "ConflictException" }, "error"],
    [{ service: "events", action: "drop", after: true }, "after"],
    [{ service: "events", action: "drop", status: 500 }, "status"],
    [{ service: "events", action: "drop", message: "x" }, "message"],
    [{ service: "events", action: "drop", times: 0 }, "times"],
    [{ service: "events", action: "drop", times: 1.5 }, "times"],
    [{ service: "events", action: "drop", rate: 1.5 }, "rate"],
    [{ service: "events", action: "drop", times: 1, rate: 0.5 }, "times"],
    [{ service: "events", action: "drop", detailType: "" }, "detailType"],
    [{ service: "events", action: "drop", detailType: 5 }, "detailType"],
    [{ service: "events", action: "drop", bogus: 1 }, "bogus"],
  ])("rejects an invalid event fault %j naming %s", async (body, field) => {
    const res = await addFault(body);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    expect(String(res.body.message)).toMatch(new RegExp(`^${field}: `));
    expect(await listFaults()).toEqual([]);
  });

  it("event faults leave API calls alone, and API faults leave events alone", async () => {
    const { id } = await quietChannel();
    await addFault({ service: "events", action: "drop", rate: 1 });
    await addFault({ service: "medialive", operation: "DescribeChannel", delayMs: 1, rate: 1 });
    const { states, unsubscribe } = collect(CHANNEL_STATE);
    try {
      await c.ml.send(new StartChannelCommand({ ChannelId: id }));
      expect((await describeChannel(id)).State).toBe("STARTING");
      await sleep(5);
      expect(states()).toEqual([]);
      expect((await listFaults()).map((f) => f.hits)).toEqual([1, 1]);
    } finally {
      unsubscribe();
    }
  });
});
