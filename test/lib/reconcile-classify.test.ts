import { describe, expect, it } from "vitest";
import type { PersistentChannel } from "#lib/channels/model.ts";
import { type Destination, DestinationTags, type Source } from "#lib/destinations/model.ts";
import { RATES } from "#lib/destinations/rates.ts";
import { SHARED_ROLE } from "#lib/destinations/shared-plan.ts";
import { classify, executionsToCheck } from "#lib/reconcile/classify.ts";
import type {
  Finding,
  Inventory,
  InventoryChannel,
  InventoryFlow,
  InventoryInput,
  InventoryIvsChannel,
} from "#lib/reconcile/model.ts";
import { type Session, Tags } from "#lib/sessions/model.ts";
import { stopStreaming } from "#state-machines/sessions/stop-streaming/lifecycle.ts";
import { FLOW_ARN, makeDestination, makeSource } from "../tasks/destinations/helpers.ts";
import { makeSession } from "../tasks/helpers.ts";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const SETTINGS = { graceSeconds: 600, stage: "dev", idleInputMinutes: 25, idleResourceTtlHours: 72 };
/** Within the grace period of NOW. */
const RECENT = "2026-03-01T11:58:00.000Z";
const EXEC = "arn:aws:states:us-east-1:000000000000:execution:castflow-dev";

function inventory(over: Partial<Inventory> = {}): Inventory {
  return {
    now: NOW,
    sessions: [],
    destinations: [],
    sources: [],
    persistentChannels: [],
    channels: [],
    inputs: [],
    ivsChannels: [],
    flows: [],
    executions: {},
    executionsByName: {},
    ...over,
  };
}

const run = (over: Partial<Inventory>) => classify(inventory(over), SETTINGS);
const only = (findings: Finding[]) => {
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
};

// ---------- records ----------

const liveSession = (id = "s1", channelId = "100") =>
  makeSession({
    sessionId: id,
    mediaLive: { channelId, inputIds: { host: "200" } },
    streaming: { status: "live", isLive: true, attempt: 2, executionArn: `${EXEC}-go-live:go-live-${id}-2` },
  });
const idleSession = (id = "s1", channelId = "100") =>
  makeSession({ sessionId: id, mediaLive: { channelId, inputIds: { host: "200" } } });
/** An active session that last streamed at `stoppedAt`. */
const stoppedSession = (stoppedAt: string, id = "s1", channelId = "100") => {
  const s = idleSession(id, channelId);
  return { ...s, streaming: { ...s.streaming, stoppedAt } };
};
const DAYS_AGO = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
const MINUTES_AGO = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const endedSession = (id = "s1"): Session => ({
  ...idleSession(id),
  status: "ended",
  end: { executionArn: `${EXEC}-end-session:end-session-${id}-1`, endedAt: "2026-02-28T09:00:00.000Z" },
});

const sharedSource = (over: Partial<Source> = {}): Source =>
  makeSource({
    sourceId: "src2",
    protocol: "rtmp-push",
    deliveryMode: "shared",
    shared: {
      input: { inputId: "301", type: "RTMP_PUSH", endpoints: [] },
      channelId: "300",
      outputs: { d2: "fp" },
      requested: 1,
    },
    ...over,
  });
const sharedDestination = (over: Partial<Destination> = {}) =>
  makeDestination({
    destinationId: "d2",
    sourceId: "src2",
    deliveryMode: "shared",
    status: "running",
    wanted: "running",
    mediaLive: {},
    ...over,
  });

const persistent = (over: Partial<PersistentChannel> = {}): PersistentChannel => ({
  channelId: "pc1",
  channelArn: "arn:aws:ivs:us-east-1:000000000000:channel/pc1",
  name: "host one",
  hostUserId: "user-host",
  state: "LIVE",
  currentSessionId: "s1",
  playbackUrl: "https://pc1.m3u8",
  ingestEndpoint: "pc1.ingest",
  totalBroadcasts: 0,
  totalStreamingMinutes: 0,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  version: 1,
  ...over,
});

// ---------- AWS resources ----------

const channel = (id: string, state: string, tags: Record<string, string>): InventoryChannel => ({
  id,
  arn: `arn:aws:medialive:us-east-1:000000000000:channel:${id}`,
  state,
  tags: { [Tags.managedBy]: "castflow", [Tags.stage]: "dev", ...tags },
  inputIds: [],
});
const sessionChannel = (id: string, sessionId: string, state = "RUNNING") =>
  channel(id, state, { [Tags.sessionId]: sessionId, [Tags.createdBy]: `go-live-${sessionId}-2` });
const destinationChannel = (id: string, destinationId: string, state = "RUNNING") =>
  channel(id, state, {
    [DestinationTags.destinationId]: destinationId,
    [DestinationTags.sourceId]: "src1",
    [Tags.createdBy]: `destination-start-${destinationId}-1`,
  });
const sharedChannel = (id: string, sourceId: string, state = "RUNNING") =>
  channel(id, state, {
    [DestinationTags.sourceId]: sourceId,
    [Tags.role]: SHARED_ROLE.channel,
    [Tags.createdBy]: `shared-channel-apply-${sourceId}-1`,
  });

const input = (
  id: string,
  tags: Record<string, string>,
  attachedChannels: string[] = [],
): InventoryInput => ({
  id,
  state: attachedChannels.length > 0 ? "ATTACHED" : "DETACHED",
  tags: { [Tags.managedBy]: "castflow", [Tags.stage]: "dev", ...tags },
  attachedChannels,
});

const ivsChannel = (id: string, role: string, sessionId?: string): InventoryIvsChannel => ({
  arn: `arn:aws:ivs:us-east-1:000000000000:channel/${id}`,
  tags: {
    [Tags.managedBy]: "castflow",
    [Tags.stage]: "dev",
    [Tags.role]: role,
    ...(sessionId ? { [Tags.sessionId]: sessionId } : {}),
  },
});

// ---------- the consistent world ----------

function consistent(): Inventory {
  return inventory({
    sessions: [liveSession("s1")],
    destinations: [makeDestination({ status: "running" }), sharedDestination()],
    sources: [makeSource(), sharedSource()],
    persistentChannels: [persistent()],
    channels: [
      sessionChannel("100", "s1"),
      destinationChannel("7654321", "d1"),
      sharedChannel("300", "src2"),
    ],
    inputs: [
      input("200", { [Tags.sessionId]: "s1" }, ["100"]),
      input("1234567", { [DestinationTags.destinationId]: "d1", [DestinationTags.sourceId]: "src1" }, [
        "7654321",
      ]),
      input("301", { [DestinationTags.sourceId]: "src2", [Tags.role]: SHARED_ROLE.pushInput }, ["300"]),
    ],
    ivsChannels: [ivsChannel("relay1", "relay", "s1"), ivsChannel("pc1", "persistent")],
    executions: { [`${EXEC}-go-live:go-live-s1-2`]: "SUCCEEDED" },
    executionsByName: { "go-live-s1-2": "SUCCEEDED" },
  });
}

describe("classify: stages", () => {
  it("leaves alone a channel of another stage, or one without castflow's stage tag", () => {
    const orphanIn = (tags: Record<string, string>) =>
      run({
        channels: [
          {
            id: "900",
            arn: "arn:900",
            state: "IDLE",
            tags: { [Tags.sessionId]: "gone", ...tags },
            inputIds: [],
          },
        ],
      });
    expect(orphanIn({ [Tags.managedBy]: "castflow", [Tags.stage]: "dev" })).toHaveLength(1);
    expect(orphanIn({ [Tags.managedBy]: "castflow", [Tags.stage]: "prod" })).toEqual([]);
    expect(orphanIn({ [Tags.managedBy]: "castflow" })).toEqual([]);
    expect(orphanIn({ [Tags.stage]: "dev" })).toEqual([]);
  });
});

describe("classify: a consistent inventory", () => {
  it("finds nothing", () => {
    expect(classify(consistent(), SETTINGS)).toEqual([]);
  });

  it("finds nothing in an empty inventory", () => {
    expect(run({})).toEqual([]);
  });
});

// ---------- MediaLive channels ----------

describe("classify: session channels", () => {
  it("a RUNNING channel of an ended session is an orphan to stop, billed", () => {
    const f = only(run({ sessions: [endedSession()], channels: [sessionChannel("100", "s1")] }));
    expect(f).toEqual({
      findingId: "orphan:medialive-channel:100",
      class: "orphan",
      resource: { type: "medialive-channel", id: "100" },
      reason:
        "MediaLive channel 100 belongs to session s1, which ended at 2026-02-28T09:00:00.000Z; it is RUNNING (billed)",
      repair: { action: "stop-channel", channelId: "100" },
      costPerHourUsd: RATES.mediaLiveChannelPerHour,
    });
  });

  it("an IDLE channel of a missing session is an orphan to delete, free", () => {
    const f = only(run({ channels: [sessionChannel("100", "gone", "IDLE")] }));
    expect(f.repair).toEqual({ action: "delete-channel", channelId: "100" });
    expect(f.costPerHourUsd).toBe(0);
    expect(f.reason).toContain("session gone, which does not exist");
  });

  it.each(["CREATE_FAILED", "UPDATE_FAILED"])("a %s orphan is deleted", (state) => {
    const f = only(run({ channels: [sessionChannel("100", "gone", state)] }));
    expect(f.repair).toEqual({ action: "delete-channel", channelId: "100" });
  });

  it("a channel the session does not name is an orphan", () => {
    const f = only(run({ sessions: [idleSession("s1", "101")], channels: [sessionChannel("100", "s1")] }));
    expect(f.findingId).toBe("orphan:medialive-channel:100");
    expect(f.repair).toEqual({ action: "stop-channel", channelId: "100" });
    expect(f.reason).toContain("session s1, whose record names channel 101");
  });

  it.each(["STARTING", "STOPPING", "CREATING", "UPDATING", "RECOVERING"])(
    "an orphan that is %s is left to the next run",
    (state) => {
      expect(run({ channels: [sessionChannel("100", "gone", state)] })).toEqual([]);
    },
  );

  it.each(["DELETING", "DELETED"])("a %s channel is skipped", (state) => {
    expect(run({ channels: [sessionChannel("100", "gone", state)] })).toEqual([]);
  });

  it("a channel castflow did not tag is not castflow's", () => {
    const foreign: InventoryChannel = { id: "9", arn: "arn:9", state: "RUNNING", tags: {}, inputIds: [] };
    expect(run({ channels: [foreign] })).toEqual([]);
  });

  it.each(["idle", "error"] as const)(
    "RUNNING while the session's streaming is %s is idle spend",
    (status) => {
      const s = makeSession({
        mediaLive: { channelId: "100", inputIds: {} },
        streaming: { status, attempt: 1 },
      });
      const f = only(run({ sessions: [s], channels: [sessionChannel("100", "s1")] }));
      expect(f).toMatchObject({
        findingId: "idle-spend:medialive-channel:100",
        repair: { action: "stop-channel", channelId: "100" },
        costPerHourUsd: RATES.mediaLiveChannelPerHour,
      });
      expect(f.reason).toContain(`session s1 is not streaming (streaming ${status})`);
    },
  );

  it("RUNNING while the session is starting is no idle spend", () => {
    const s = makeSession({
      mediaLive: { channelId: "100", inputIds: {} },
      streaming: { status: "starting", attempt: 1, executionArn: "arn:go" },
    });
    expect(
      run({ sessions: [s], channels: [sessionChannel("100", "s1")], executions: { "arn:go": "RUNNING" } }),
    ).toEqual([]);
  });

  it("a live session whose channel is IDLE drifts: stop-streaming with its schema's input", () => {
    const f = only(run({ sessions: [liveSession()], channels: [sessionChannel("100", "s1", "IDLE")] }));
    expect(f).toMatchObject({
      findingId: "drift:session:s1",
      resource: { type: "session", id: "s1" },
      repair: {
        action: "run-lifecycle",
        lifecycle: "stop-streaming",
        input: { sessionId: "s1", attempt: 2 },
      },
      costPerHourUsd: 0,
    });
    expect(f.reason).toBe("Session s1 is live but its channel 100 is IDLE");
    if (f.repair.action !== "run-lifecycle") throw new Error("unexpected repair");
    expect(stopStreaming.input.parse(f.repair.input)).toEqual({ sessionId: "s1", attempt: 2 });
  });

  it("a live session whose channel is absent drifts", () => {
    const f = only(run({ sessions: [liveSession()] }));
    expect(f.findingId).toBe("drift:session:s1");
    expect(f.reason).toContain("its channel 100 does not exist");
  });

  it("a live session whose channel is RUNNING does not drift", () => {
    expect(run({ sessions: [liveSession()], channels: [sessionChannel("100", "s1")] })).toEqual([]);
  });
});

describe("classify: destination channels", () => {
  it("a channel of a missing destination is an orphan", () => {
    const f = only(run({ channels: [destinationChannel("7654321", "d9")] }));
    expect(f).toMatchObject({ findingId: "orphan:medialive-channel:7654321", class: "orphan" });
    expect(f.repair).toEqual({ action: "stop-channel", channelId: "7654321" });
    expect(f.reason).toContain("destination d9, which does not exist");
  });

  it("a channel of a deleted destination is an orphan", () => {
    const d = makeDestination({ status: "deleted", deletedAt: "2026-02-01T00:00:00.000Z" });
    const f = only(run({ destinations: [d], channels: [destinationChannel("7654321", "d1", "IDLE")] }));
    expect(f.repair).toEqual({ action: "delete-channel", channelId: "7654321" });
    expect(f.reason).toContain("destination d1, which was deleted at 2026-02-01T00:00:00.000Z");
  });

  it("a channel the destination does not name is an orphan", () => {
    const f = only(
      run({ destinations: [makeDestination()], channels: [destinationChannel("555", "d1", "IDLE")] }),
    );
    expect(f.findingId).toBe("orphan:medialive-channel:555");
    expect(f.reason).toContain("whose record names channel 7654321");
  });

  it.each(["idle", "error"] as const)("RUNNING while the destination is %s is idle spend", (status) => {
    const f = only(
      run({ destinations: [makeDestination({ status })], channels: [destinationChannel("7654321", "d1")] }),
    );
    expect(f).toMatchObject({
      findingId: "idle-spend:medialive-channel:7654321",
      repair: { action: "stop-channel", channelId: "7654321" },
      costPerHourUsd: RATES.mediaLiveChannelPerHour,
    });
  });

  it("a running destination whose channel is IDLE drifts, repaired by a person", () => {
    const d = makeDestination({ status: "running" });
    const f = only(run({ destinations: [d], channels: [destinationChannel("7654321", "d1", "IDLE")] }));
    expect(f).toMatchObject({ findingId: "drift:destination:d1", costPerHourUsd: 0 });
    expect(f.reason).toBe("Destination d1 is running but its channel 7654321 is IDLE");
    expect(f.repair.action).toBe("none");
    if (f.repair.action === "none") expect(f.repair.why).toMatch(/Stop destination d1 .* or start it again/);
  });

  it("a running destination whose channel is absent drifts", () => {
    const f = only(run({ destinations: [makeDestination({ status: "running" })] }));
    expect(f.findingId).toBe("drift:destination:d1");
    expect(f.reason).toContain("channel 7654321 does not exist");
  });
});

describe("classify: shared channels", () => {
  it("the shared channel of a missing source is an orphan", () => {
    const f = only(run({ channels: [sharedChannel("300", "src9")] }));
    expect(f.findingId).toBe("orphan:medialive-channel:300");
    expect(f.reason).toContain("source src9, which does not exist");
  });

  it("a shared channel its source does not name is an orphan", () => {
    const f = only(run({ sources: [sharedSource()], channels: [sharedChannel("333", "src2", "IDLE")] }));
    expect(f.findingId).toBe("orphan:medialive-channel:333");
    expect(f.repair).toEqual({ action: "delete-channel", channelId: "333" });
    expect(f.reason).toContain("source src2, whose record names channel 300");
  });

  it("RUNNING with no destination wanting it and no apply is idle spend", () => {
    const f = only(
      run({
        sources: [sharedSource()],
        destinations: [sharedDestination({ status: "idle", wanted: "idle" })],
        channels: [sharedChannel("300", "src2")],
      }),
    );
    expect(f).toMatchObject({
      findingId: "idle-spend:medialive-channel:300",
      repair: { action: "stop-channel", channelId: "300" },
      costPerHourUsd: RATES.mediaLiveChannelPerHour,
    });
    expect(f.reason).toContain("no destination of source src2 wants it");
  });

  it("a destination wanting the channel keeps it running", () => {
    const starting = sharedDestination({ status: "starting", wanted: "running" });
    const findings = run({
      sources: [sharedSource({ shared: { ...sharedSource().shared, outputs: {}, requested: 1 } })],
      destinations: [{ ...starting, operation: undefined }],
      channels: [sharedChannel("300", "src2")],
    });
    // No idle spend; the starting destination, held by no apply, is reported stuck for a person.
    expect(findings.map((f) => f.findingId)).toEqual(["stuck:destination:d2"]);
  });

  it("an apply holding the channel keeps it running", () => {
    const apply = { executionArn: "arn:apply", startedAt: "2026-03-01T11:00:00.000Z" };
    const src = sharedSource({ shared: { ...sharedSource().shared, outputs: {}, requested: 2, apply } });
    expect(
      run({
        sources: [src],
        destinations: [sharedDestination({ status: "idle", wanted: "idle" })],
        channels: [sharedChannel("300", "src2")],
        executions: { "arn:apply": "RUNNING" },
      }),
    ).toEqual([]);
  });

  it("a destination's own channel (destination and source tags) is not taken for a shared channel", () => {
    const f = only(run({ sources: [sharedSource()], channels: [destinationChannel("42", "d9", "IDLE")] }));
    expect(f.reason).toContain("destination d9");
  });

  it("a running shared destination whose source's channel is IDLE drifts", () => {
    const f = only(
      run({
        sources: [sharedSource()],
        destinations: [sharedDestination()],
        channels: [sharedChannel("300", "src2", "IDLE")],
      }),
    );
    expect(f.findingId).toBe("drift:destination:d2");
    expect(f.reason).toBe("Destination d2 is running but its source's shared channel 300 is IDLE");
  });
});

// ---------- MediaLive inputs ----------

describe("classify: inputs", () => {
  it("a detached input of an ended session is an orphan to delete", () => {
    const f = only(run({ sessions: [endedSession()], inputs: [input("200", { [Tags.sessionId]: "s1" })] }));
    expect(f).toEqual({
      findingId: "orphan:medialive-input:200",
      class: "orphan",
      resource: { type: "medialive-input", id: "200" },
      reason:
        "MediaLive input 200 is attached to no channel and belongs to session s1, which ended at 2026-02-28T09:00:00.000Z",
      repair: { action: "delete-input", inputId: "200" },
      costPerHourUsd: 0,
    });
  });

  it("a detached input the active session does not name is an orphan", () => {
    const f = only(run({ sessions: [idleSession()], inputs: [input("201", { [Tags.sessionId]: "s1" })] }));
    expect(f.reason).toContain("whose record names input 200");
  });

  it("the session's own detached input is no orphan", () => {
    expect(
      run({ sessions: [stoppedSession(DAYS_AGO(2))], inputs: [input("200", { [Tags.sessionId]: "s1" })] }),
    ).toEqual([]);
  });

  it("an attached input is never an orphan", () => {
    expect(run({ inputs: [input("200", { [Tags.sessionId]: "gone" }, ["100"])] })).toEqual([]);
  });

  it("a detached input of a missing destination, or one it does not name, is an orphan", () => {
    const tags = { [DestinationTags.destinationId]: "d1", [DestinationTags.sourceId]: "src1" };
    expect(only(run({ inputs: [input("1234567", tags)] })).reason).toContain(
      "destination d1, which does not exist",
    );
    const other = only(run({ destinations: [makeDestination()], inputs: [input("99", tags)] }));
    expect(other.findingId).toBe("orphan:medialive-input:99");
    expect(other.reason).toContain("whose record names input 1234567");
  });

  it("a source's push input is an orphan once the source is gone, not before", () => {
    const tags = { [DestinationTags.sourceId]: "src2", [Tags.role]: SHARED_ROLE.pushInput };
    expect(run({ sources: [sharedSource()], inputs: [input("301", tags)] })).toEqual([]);
    const f = only(run({ inputs: [input("301", tags)] }));
    expect(f.findingId).toBe("orphan:medialive-input:301");
    expect(f.reason).toContain("source src2, which does not exist");
  });

  it("a shared MEDIACONNECT input the source does not name is an orphan", () => {
    const tags = { [DestinationTags.sourceId]: "src2", [Tags.role]: SHARED_ROLE.input };
    const f = only(run({ sources: [sharedSource()], inputs: [input("302", tags)] }));
    expect(f.reason).toContain("source src2, whose record names input 301");
  });
});

// ---------- IVS channels ----------

describe("classify: IVS channels", () => {
  it("the relay of an ended session is an orphan to delete", () => {
    const relay = ivsChannel("relay1", "relay", "s1");
    const f = only(run({ sessions: [endedSession()], ivsChannels: [relay] }));
    expect(f).toMatchObject({
      findingId: `orphan:ivs-channel:${relay.arn}`,
      resource: { type: "ivs-channel", id: relay.arn },
      repair: { action: "delete-ivs-channel", channelArn: relay.arn },
      costPerHourUsd: 0,
    });
    expect(f.reason).toContain("IVS relay channel");
  });

  it("the program channel of a missing session is an orphan", () => {
    const f = only(run({ ivsChannels: [ivsChannel("prog1", "program", "gone")] }));
    expect(f.reason).toContain("session gone, which does not exist");
  });

  it("the relay of an active session is no orphan", () => {
    expect(run({ sessions: [idleSession()], ivsChannels: [ivsChannel("relay1", "relay", "s1")] })).toEqual(
      [],
    );
  });

  it("a persistent channel is never an orphan, even tagged with a gone session", () => {
    expect(
      run({ ivsChannels: [ivsChannel("pc1", "persistent", "gone"), ivsChannel("pc2", "persistent")] }),
    ).toEqual([]);
  });
});

// ---------- stuck ----------

describe("classify: stuck records", () => {
  const starting = (executionArn?: string) =>
    makeSession({ streaming: { status: "starting", attempt: 1, ...(executionArn ? { executionArn } : {}) } });

  it("a session starting whose go-live closed is settled through that execution", () => {
    const f = only(run({ sessions: [starting("arn:go")], executions: { "arn:go": "FAILED" } }));
    expect(f).toEqual({
      findingId: "stuck:session:s1",
      class: "stuck",
      resource: { type: "session", id: "s1" },
      reason: "Session s1 is starting to stream but its execution arn:go has closed (FAILED)",
      repair: { action: "settle", executionArn: "arn:go" },
      costPerHourUsd: 0,
    });
  });

  it.each([
    ["missing", {}],
    ["UNKNOWN", { "arn:go": "UNKNOWN" }],
  ])(
    "an execution whose status is %s is not running, and there is nothing to settle it with: for a person",
    (_, executions) => {
      const f = only(run({ sessions: [starting("arn:go")], executions }));
      expect(f.class).toBe("stuck");
      expect(f.repair).toMatchObject({ action: "none", why: expect.stringContaining("Go live again") });
      expect(f.reason).toContain("is unknown to Step Functions");
    },
  );

  it("a session starting whose go-live runs is not stuck", () => {
    expect(run({ sessions: [starting("arn:go")], executions: { "arn:go": "RUNNING" } })).toEqual([]);
  });

  it("a session stopping whose stop-streaming closed is settled", () => {
    const s = makeSession({ streaming: { status: "stopping", attempt: 1, stopExecutionArn: "arn:stop" } });
    const f = only(run({ sessions: [s], executions: { "arn:stop": "TIMED_OUT" } }));
    expect(f.repair).toEqual({ action: "settle", executionArn: "arn:stop" });
  });

  it("a session ending is settled through end.executionArn, else endRequest.executionArn", () => {
    const base = idleSession();
    const withEnd: Session = {
      ...base,
      status: "ending",
      end: { executionArn: "arn:end" },
      endRequest: { executionArn: "arn:req", requestedAt: base.updatedAt },
    };
    const closed = { "arn:end": "FAILED", "arn:req": "ABORTED" };
    expect(only(run({ sessions: [withEnd], executions: closed })).repair).toEqual({
      action: "settle",
      executionArn: "arn:end",
    });
    const requested: Session = {
      ...base,
      status: "ending",
      endRequest: { executionArn: "arn:req", requestedAt: base.updatedAt },
    };
    expect(only(run({ sessions: [requested], executions: closed })).repair).toEqual({
      action: "settle",
      executionArn: "arn:req",
    });
  });

  it("a transitional session without an execution is stuck for a person", () => {
    const f = only(run({ sessions: [starting()] }));
    expect(f.findingId).toBe("stuck:session:s1");
    expect(f.repair.action).toBe("none");
    if (f.repair.action === "none") expect(f.repair.why).toContain("POST /sessions/s1/streaming/start");
  });

  it("a transitional destination whose operation closed is settled", () => {
    const d = makeDestination({
      status: "stopping",
      operation: {
        lifecycle: "destination-stop",
        executionArn: "arn:dstop",
        startedAt: "2026-01-01T00:00:00.000Z",
      },
    });
    const f = only(run({ destinations: [d], executions: { "arn:dstop": "ABORTED" } }));
    expect(f).toMatchObject({
      findingId: "stuck:destination:d1",
      repair: { action: "settle", executionArn: "arn:dstop" },
    });
    expect(run({ destinations: [d], executions: { "arn:dstop": "RUNNING" } })).toEqual([]);
  });

  it("a transitional destination without an operation is stuck for a person", () => {
    const f = only(run({ destinations: [makeDestination({ status: "updating" })] }));
    expect(f.repair.action).toBe("none");
  });

  it("a source whose apply closed is settled; its pending destinations are left to that settle", () => {
    const apply = { executionArn: "arn:apply", startedAt: "2026-01-01T00:00:00.000Z" };
    const src = sharedSource({ shared: { ...sharedSource().shared, outputs: {}, requested: 2, apply } });
    const findings = run({
      sources: [src],
      destinations: [sharedDestination({ status: "starting" })],
      channels: [sharedChannel("300", "src2")],
      executions: { "arn:apply": "FAILED" },
    });
    const f = only(findings);
    expect(f).toMatchObject({
      findingId: "stuck:source:src2",
      resource: { type: "source", id: "src2" },
      repair: { action: "settle", executionArn: "arn:apply" },
    });
  });

  it("a source deleting with nothing holding it is stuck for a person", () => {
    const f = only(run({ sources: [makeSource({ status: "deleting" })] }));
    expect(f.findingId).toBe("stuck:source:src1");
    expect(f.repair.action).toBe("none");
  });
});

// ---------- claim leaks ----------

describe("classify: claim leaks", () => {
  it("a persistent channel LIVE for an ended session leaks its claim", () => {
    const f = only(run({ sessions: [endedSession()], persistentChannels: [persistent()] }));
    expect(f).toEqual({
      findingId: "claim-leak:persistent-channel:pc1",
      class: "claim-leak",
      resource: { type: "persistent-channel", id: "pc1" },
      reason: "Persistent channel pc1 is LIVE for session s1, which ended at 2026-02-28T09:00:00.000Z",
      repair: { action: "release-claim", channelId: "pc1", sessionId: "s1" },
      costPerHourUsd: 0,
    });
  });

  it("a persistent channel LIVE for a missing session leaks its claim", () => {
    const f = only(run({ persistentChannels: [persistent({ currentSessionId: "gone" })] }));
    expect(f.repair).toEqual({ action: "release-claim", channelId: "pc1", sessionId: "gone" });
  });

  it("a claim of an active session, or an IDLE channel, is no leak", () => {
    expect(run({ sessions: [idleSession()], persistentChannels: [persistent()] })).toEqual([]);
    expect(run({ persistentChannels: [persistent({ state: "IDLE", currentSessionId: undefined })] })).toEqual(
      [],
    );
  });

  it("an ended session's claim is kept while its MediaLive channel still exists", () => {
    const findings = run({
      sessions: [endedSession()],
      persistentChannels: [persistent()],
      channels: [sessionChannel("100", "s1")],
    });
    expect(findings.map((f) => f.findingId)).toEqual(["orphan:medialive-channel:100"]);
  });
});

// ---------- guards ----------

describe("classify: guards", () => {
  it("leaves a session changed within the grace period alone, with its resources", () => {
    const recent: Session = { ...endedSession(), updatedAt: RECENT };
    expect(
      run({
        sessions: [recent],
        channels: [sessionChannel("100", "s1")],
        inputs: [input("200", { [Tags.sessionId]: "s1" })],
        ivsChannels: [ivsChannel("relay1", "relay", "s1")],
        persistentChannels: [persistent()],
      }),
    ).toEqual([]);
    const stuckRecently = makeSession({ streaming: { status: "starting", attempt: 1 } });
    expect(run({ sessions: [{ ...stuckRecently, updatedAt: RECENT }] })).toEqual([]);
  });

  it("leaves a destination changed within the grace period alone", () => {
    const d = makeDestination({ status: "idle", updatedAt: RECENT });
    expect(run({ destinations: [d], channels: [destinationChannel("7654321", "d1")] })).toEqual([]);
    expect(run({ destinations: [{ ...d, status: "starting" }] })).toEqual([]);
  });

  it("leaves a shared channel alone while one of its source's destinations changed recently", () => {
    expect(
      run({
        sources: [sharedSource()],
        destinations: [sharedDestination({ status: "idle", wanted: "idle", updatedAt: RECENT })],
        channels: [sharedChannel("300", "src2")],
      }),
    ).toEqual([]);
  });

  it("leaves a persistent channel claimed within the grace period alone", () => {
    expect(run({ persistentChannels: [persistent({ currentSessionId: "new", updatedAt: RECENT })] })).toEqual(
      [],
    );
  });

  it("says nothing about a resource whose creating execution still runs", () => {
    const byName = { "go-live-s1-2": "RUNNING" };
    expect(run({ channels: [sessionChannel("100", "s1")], executionsByName: byName })).toEqual([]);
    const tagged = input("200", { [Tags.sessionId]: "s1", [Tags.createdBy]: "go-live-s1-2" });
    expect(run({ inputs: [tagged], executionsByName: byName })).toEqual([]);
    // Once it has closed (or is unknown), the orphan is reported.
    expect(
      run({ channels: [sessionChannel("100", "s1")], executionsByName: { "go-live-s1-2": "FAILED" } }),
    ).toHaveLength(1);
    expect(run({ inputs: [tagged], executionsByName: { "go-live-s1-2": "UNKNOWN" } })).toHaveLength(1);
  });
});

// ---------- the list as a whole ----------

describe("classify: the findings list", () => {
  it("is sorted by class (FINDING_CLASSES) then findingId, one per resource and class", () => {
    const findings = run({
      sessions: [endedSession(), liveSession("s2", "110")],
      persistentChannels: [persistent()],
      channels: [
        sessionChannel("100", "s1"),
        sessionChannel("020", "gone", "IDLE"),
        sessionChannel("100", "s1"),
      ],
      destinations: [makeDestination({ status: "idle" })],
      sources: [makeSource({ status: "deleting" })],
    });
    expect(findings.map((f) => f.findingId)).toEqual([
      "orphan:medialive-channel:020",
      "orphan:medialive-channel:100",
      "drift:session:s2",
      "stuck:source:src1",
    ]);
  });

  it("never puts a tag or a stream key parameter in a reason", () => {
    const d = makeDestination({ status: "idle" });
    const findings = run({
      destinations: [d],
      channels: [destinationChannel("7654321", "d1"), destinationChannel("8", "d1", "IDLE")],
      inputs: [input("9", { [DestinationTags.destinationId]: "d1", [DestinationTags.sourceId]: "src1" })],
    });
    expect(findings).toHaveLength(3);
    for (const f of findings) {
      expect(f.reason).not.toContain(d.streamKeyParameter);
      expect(f.reason).not.toContain("castflow:");
    }
  });
});

// ---------- executionsToCheck ----------

describe("executionsToCheck", () => {
  it("lists the executions records hold and the creators of castflow resources, deduplicated", () => {
    const apply = { executionArn: "arn:apply", startedAt: "2026-01-01T00:00:00.000Z" };
    const {
      now: _now,
      executions: _e,
      executionsByName: _n,
      ...inv
    } = inventory({
      sessions: [
        makeSession({
          sessionId: "a",
          streaming: { status: "starting", attempt: 1, executionArn: "arn:go" },
        }),
        makeSession({
          sessionId: "b",
          streaming: { status: "stopping", attempt: 1, stopExecutionArn: "arn:stop" },
        }),
        { ...idleSession("c"), status: "ending", endRequest: { executionArn: "arn:end", requestedAt: "x" } },
        // not transitional: its (old) execution is not listed
        makeSession({ sessionId: "d", streaming: { status: "live", attempt: 1, executionArn: "arn:old" } }),
      ],
      destinations: [
        makeDestination({
          status: "starting",
          operation: { lifecycle: "destination-start", executionArn: "arn:dstart", startedAt: "x" },
        }),
        makeDestination({
          destinationId: "d2",
          status: "idle",
          operation: { lifecycle: "destination-stop", executionArn: "arn:settled", startedAt: "x" },
        }),
      ],
      sources: [sharedSource({ shared: { ...sharedSource().shared, outputs: {}, requested: 0, apply } })],
      channels: [
        sessionChannel("100", "s1"),
        sessionChannel("101", "s1"), // same creator: listed once
        { ...sessionChannel("102", "s9", "DELETED") },
        channel("103", "RUNNING", { [Tags.createdBy]: "shared-channel-apply-src3-1" }),
        { id: "104", arn: "arn:104", state: "IDLE", tags: { [Tags.createdBy]: "foreign" }, inputIds: [] },
      ],
      inputs: [input("200", { [Tags.sessionId]: "s1", [Tags.createdBy]: "go-live-s1-1" })],
      ivsChannels: [
        {
          arn: "arn:ivs",
          tags: { [Tags.managedBy]: "castflow", [Tags.stage]: "dev", [Tags.createdBy]: "ivs-maker-1" },
        },
      ],
    });
    expect(executionsToCheck(inv, "dev")).toEqual({
      arns: ["arn:apply", "arn:dstart", "arn:end", "arn:go", "arn:stop"],
      names: ["go-live-s1-1", "go-live-s1-2", "ivs-maker-1", "shared-channel-apply-src3-1"],
    });
  });
});

describe("idle spend: no input, and stopped resources kept past the TTL", () => {
  it("a live session whose channel has received nothing for longer than idleInputMinutes is stopped", () => {
    const f = only(
      run({
        sessions: [liveSession()],
        channels: [sessionChannel("100", "s1")],
        noInputSince: { "100": MINUTES_AGO(26) },
      }),
    );
    expect(f).toMatchObject({
      findingId: "idle-spend:medialive-channel:100",
      class: "idle-spend",
      repair: {
        action: "run-lifecycle",
        lifecycle: stopStreaming.name,
        input: { sessionId: "s1", attempt: 2 },
      },
      costPerHourUsd: RATES.mediaLiveChannelPerHour,
    });
    expect(f.reason).toBe(
      `Session s1 is live but its channel 100 has received nothing from the host's encoder since ${MINUTES_AGO(26)} (more than 25 min); it is RUNNING (billed)`,
    );
  });

  it("no input for less than idleInputMinutes, or input, is no finding", () => {
    const base = { sessions: [liveSession()], channels: [sessionChannel("100", "s1")] };
    expect(run({ ...base, noInputSince: { "100": MINUTES_AGO(24) } })).toEqual([]);
    expect(run(base)).toEqual([]);
    // Another channel's loss says nothing about this one.
    expect(run({ ...base, noInputSince: { "101": MINUTES_AGO(60) } })).toEqual([]);
  });

  it("a session that is not live is not stopped for lack of input", () => {
    const starting = liveSession();
    const s = { ...starting, streaming: { ...starting.streaming, status: "starting" as const } };
    const found = run({
      sessions: [s],
      channels: [sessionChannel("100", "s1")],
      executions: { [starting.streaming.executionArn as string]: "RUNNING" },
      noInputSince: { "100": MINUTES_AGO(60) },
    });
    expect(found).toEqual([]);
  });

  it("a session that keeps its stopped channel and push input past the TTL has them retired", () => {
    const session = stoppedSession(DAYS_AGO(4));
    const f = only(
      run({
        sessions: [session],
        channels: [sessionChannel("100", "s1", "IDLE")],
        inputs: [input("200", { [Tags.sessionId]: "s1" }, ["100"])],
      }),
    );
    expect(f).toEqual({
      findingId: "idle-spend:session:s1",
      class: "idle-spend",
      resource: { type: "session", id: "s1" },
      reason: `Session s1 has not streamed since ${DAYS_AGO(4)} (more than the 72 h idle TTL) and keeps its stopped channel 100 and push input 200, which carry an idle charge; they are retired and deleted, and its next go-live makes new ones`,
      repair: { action: "retire-session-resources", sessionId: "s1", version: session.version },
      costPerHourUsd: RATES.mediaLiveIdleChannelPerHour + RATES.mediaLiveIdlePushInputPerHour,
    });
    // A channel on its way (starting, stopping) is left to the next run.
    expect(run({ sessions: [session], channels: [sessionChannel("100", "s1", "STOPPING")] })).toEqual([]);
  });

  it("once retired they are orphans: the channel deleted, then the input", () => {
    const retired = stoppedSession(DAYS_AGO(4));
    const s = {
      ...retired,
      mediaLive: {
        inputIds: {},
        rtmpEndpoints: {},
        retired: { channelId: "100", inputId: "200", at: DAYS_AGO(1) },
      },
    };
    expect(only(run({ sessions: [s], channels: [sessionChannel("100", "s1", "IDLE")] }))).toMatchObject({
      class: "orphan",
      repair: { action: "delete-channel", channelId: "100" },
    });
    expect(only(run({ sessions: [s], inputs: [input("200", { [Tags.sessionId]: "s1" })] }))).toMatchObject({
      class: "orphan",
      repair: { action: "delete-input", inputId: "200" },
    });
  });

  it("within the TTL, or a destination's stopped channel, is no finding", () => {
    expect(
      run({ sessions: [stoppedSession(DAYS_AGO(2))], channels: [sessionChannel("100", "s1", "IDLE")] }),
    ).toEqual([]);
    const d = makeDestination({ status: "idle", mediaLive: { channelId: "500" }, updatedAt: DAYS_AGO(30) });
    expect(
      run({ destinations: [d], channels: [destinationChannel("500", d.destinationId, "IDLE")] }),
    ).toEqual([]);
  });
});

describe("MediaConnect flows", () => {
  const flow = (status: string, over: Partial<InventoryFlow> = {}): InventoryFlow => ({
    arn: FLOW_ARN,
    name: "castflow-source-src1",
    status,
    ...over,
  });
  const idleD1 = makeDestination({ destinationId: "d1", status: "idle" });
  const flowFindings = (found: Finding[]) => found.filter((f) => f.resource.type === "mediaconnect-flow");

  it("an ACTIVE flow whose users no longer need it is released through release-flow", () => {
    const f = only(
      run({
        sources: [makeSource({ flowUsers: { d1: "2026-01-01T00:00:00.000Z" } })],
        destinations: [idleD1],
        flows: [flow("ACTIVE")],
      }),
    );
    expect(f).toEqual({
      findingId: `idle-spend:mediaconnect-flow:${FLOW_ARN}`,
      class: "idle-spend",
      resource: { type: "mediaconnect-flow", id: FLOW_ARN },
      reason:
        "MediaConnect flow castflow-source-src1 of source src1 is ACTIVE (billed) but its users (d1) no longer need it",
      repair: {
        action: "release-flow",
        sourceId: "src1",
        users: ["d1"],
        usersSince: { d1: "2026-01-01T00:00:00.000Z" },
      },
      costPerHourUsd: RATES.mediaConnectFlowPerHour,
    });
  });

  it("a user running, starting or just changed keeps the flow; a STANDBY flow costs nothing", () => {
    const sources = [makeSource({ flowUsers: { d1: "2026-01-01T00:00:00.000Z" } })];
    for (const d of [
      makeDestination({ destinationId: "d1", status: "running" }),
      makeDestination({ destinationId: "d1", status: "starting" }),
      makeDestination({ destinationId: "d1", status: "idle", updatedAt: RECENT }),
    ])
      expect(flowFindings(run({ sources, destinations: [d], flows: [flow("ACTIVE")] }))).toEqual([]);
    expect(flowFindings(run({ sources, destinations: [idleD1], flows: [flow("STANDBY")] }))).toEqual([]);
  });

  it("an ACTIVE flow nobody uses while its record says STANDBY (started by hand) is reported, not stopped", () => {
    const f = only(run({ sources: [makeSource({ flowPhase: "standby" })], flows: [flow("ACTIVE")] }));
    expect(f.repair.action).toBe("none");
    expect(f.reason).toContain("nothing uses it");
  });

  it("a destination of the source running or just changed keeps the flow, whatever flowUsers says", () => {
    const sources = [makeSource({ flowUsers: {} })];
    for (const d of [
      makeDestination({ destinationId: "d9", status: "running" }),
      makeDestination({ destinationId: "d9", status: "idle", updatedAt: RECENT }),
    ])
      expect(flowFindings(run({ sources, destinations: [d], flows: [flow("ACTIVE")] }))).toEqual([]);
    // Nobody listed and the record says active: released under a fresh user id.
    const f = only(flowFindings(run({ sources, flows: [flow("ACTIVE")] })));
    expect(f.repair).toEqual({ action: "release-flow", sourceId: "src1", users: ["reconcile"] });
  });

  it("a live session's stopped channel is not deleted while a failed go-live just touched it", () => {
    const failed = { ...stoppedSession(DAYS_AGO(4)), updatedAt: DAYS_AGO(1) };
    expect(run({ sessions: [failed], channels: [sessionChannel("100", "s1", "IDLE")] })).toEqual([]);
  });

  it("a tagged flow of this stage without its source is an orphan: stopped, then deleted", () => {
    const tags = { [Tags.managedBy]: "castflow", [Tags.stage]: "dev", [DestinationTags.sourceId]: "gone" };
    const active = only(run({ flows: [flow("ACTIVE", { name: "castflow-source-gone", tags })] }));
    expect(active).toMatchObject({
      class: "orphan",
      reason:
        "MediaConnect flow castflow-source-gone belongs to source gone, which does not exist; it is ACTIVE (billed)",
      repair: { action: "stop-flow", flowArn: FLOW_ARN },
    });
    const standby = only(run({ flows: [flow("STANDBY", { name: "castflow-source-gone", tags })] }));
    expect(standby.repair).toEqual({ action: "delete-flow", flowArn: FLOW_ARN });
    // Untagged (its stage unknown), another stage's, or on its way: left alone.
    expect(run({ flows: [flow("STANDBY", { name: "castflow-source-gone" })] })).toEqual([]);
    expect(
      run({
        flows: [flow("STANDBY", { name: "castflow-source-gone", tags: { ...tags, [Tags.stage]: "prod" } })],
      }),
    ).toEqual([]);
    expect(run({ flows: [flow("STARTING", { name: "castflow-source-gone", tags })] })).toEqual([]);
  });
});
