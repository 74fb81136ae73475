import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { eventFaults, pastFallbackMs } from "#bench/event-faults.ts";
import { eventually, useLocalRuntime } from "./harness.ts";

/**
 * Slower than the other workflow tests (TEST_TIME_SCALE): the rounds' fallbacks (30 s for Ready)
 * must stay well above the local latency of delivering an event to its wake task on a loaded
 * machine, or a round can time out before its event is handled and the counts below vary.
 */
const TIME_SCALE = 0.01;
const t = useLocalRuntime({ legacyProgramChannels: true, timeScale: TIME_SCALE });
const ADMIN = { user: "ops", admin: true } as const;
const CHANNEL_EVENTS = "MediaLive Channel State Change";

/** How many times each state was entered in an execution. */
async function entered(executionArn: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const name of await t.statePath(executionArn)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** How many times a task state's function was invoked in an execution (its retries included). */
async function invocations(executionArn: string, state: string): Promise<number> {
  let current: string | undefined;
  let count = 0;
  for (const e of await t.history(executionArn, false)) {
    if (e.type?.endsWith("StateEntered")) current = e.stateEnteredEventDetails?.name;
    else if ((e.type === "LambdaFunctionScheduled" || e.type === "TaskScheduled") && current === state)
      count++;
  }
  return count;
}

/** A session's whole life: go-live, stop, go-live again, end; every execution must succeed. */
async function sessionLife(user: string): Promise<void> {
  await t.persistentChannel(user);
  const sessionId = await t.createSession(user);
  expect((await t.goLive(sessionId, user)).execution.status).toBe("SUCCEEDED");
  expect((await t.session(sessionId, user)).streaming.status).toBe("live");
  expect((await t.stopStreaming(sessionId, user)).execution.status).toBe("SUCCEEDED");
  expect((await t.session(sessionId, user)).streaming.status).toBe("idle");
  expect((await t.goLive(sessionId, user)).execution.status).toBe("SUCCEEDED");
  expect((await t.endSession(sessionId, user)).execution.status).toBe("SUCCEEDED");
  expect((await t.session(sessionId, user)).status).toBe("ended");
}

/** A destination's whole life on its own source: add, start, stop, delete. Returns the source's flow. */
async function destinationLife(user: string): Promise<string> {
  const source = await t.api("POST", "/admin/sources", {
    ...ADMIN,
    body: { name: `events-${randomUUID().slice(0, 6)}`, protocol: "srt-listener" },
  });
  expect(source.status).toBe(201);
  const key = randomUUID()
    .replaceAll("-", "")
    .slice(0, 20)
    .replace(/(.{4})(?!$)/g, "$1-");
  const added = await t.api("POST", "/destinations", {
    user,
    body: { name: "YouTube", platform: "youtube", sourceId: source.body.sourceId, streamKey: key },
  });
  expect(added.status).toBe(202);
  expect((await t.waitFor(added.body.executionArn)).status).toBe("SUCCEEDED");
  const id = added.body.destinationId as string;
  for (const [method, suffix] of [
    ["POST", "/start"],
    ["POST", "/stop"],
    ["DELETE", ""],
  ] as const) {
    const res = await t.api(method, `/destinations/${id}${suffix}`, { user });
    expect(res.status).toBe(202);
    const done = await t.waitFor(res.body.executionArn);
    expect(done.status, `${method} /destinations/${id}${suffix}: ${done.error} ${done.cause}`).toBe(
      "SUCCEEDED",
    );
  }
  const gone = await t.api("GET", `/destinations/${id}`, { user });
  expect(gone.status === 404 || gone.body.status === "deleted", JSON.stringify(gone.body)).toBe(true);
  return source.body.flow.flowArn as string;
}

/** Nothing left behind: no MediaLive channel or input of a session or destination, no execution running. */
async function expectNothingLeft(): Promise<void> {
  const { channels, inputs } = t.liveMediaLive();
  // The hosts' persistent channels are IVS; every MediaLive channel and input here is a lifecycle's.
  expect(channels).toEqual([]);
  expect(inputs).toEqual([]);
  for (const stateMachineArn of Object.values(t.h.rt.stateMachineArns)) {
    const running = await t.h.sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: "RUNNING" }),
    );
    expect(running.executions ?? []).toEqual([]);
  }
}

describe("waits on AWS's events, with a describe when they do not come", () => {
  it("ends the RUNNING wait on the channel's event: one round, no fallback, no channel describe", async () => {
    const sessionId = await t.createSession();
    await t.sim("DELETE", "/_sim/calls");

    const { start, execution } = await t.goLive(sessionId);

    expect(execution.status).toBe("SUCCEEDED");
    const counts = await entered(start.body.executionArn);
    // Start Channel is the first round of the wait; the RUNNING event ended it.
    expect(counts.get("Start Channel")).toBe(1);
    expect(counts.get("Wait For Channel Running: Count Round")).toBeUndefined();
    expect(counts.get("Wait For Channel Running: Await Event")).toBeUndefined();
    // Before the start, Ensure Channel saw the new channel CREATING: the CREATED event ended that wait.
    expect(counts.get("Wait For Channel Ready: Await Event")).toBe(1);
    expect(counts.get("Wait For Channel Ready: Count Round")).toBeUndefined();
    // Ensure Channel describes the new input before CreateChannel (again when it was still
    // CREATING: a retry); Start Channel starts without a describe. At most 2 in all.
    const inputDescribes = await t.calls("medialive", "DescribeInput");
    expect(inputDescribes).toBe(await invocations(start.body.executionArn, "Ensure Channel"));
    expect(await t.calls("medialive", "DescribeChannel")).toBe(0);
    expect(inputDescribes).toBeLessThanOrEqual(2);
    await t.endSession(sessionId);
  });

  it("with every event lost, each wait ends on its fallback describe, and the lifecycles end right", async () => {
    await t.fault({ service: "events", action: "drop", detailType: CHANNEL_EVENTS, rate: 1 });
    try {
      const sessionId = await t.createSession();
      const { start, execution } = await t.goLive(sessionId);
      expect(execution.status).toBe("SUCCEEDED");
      const counts = await entered(start.body.executionArn);
      expect(counts.get("Wait For Channel Running: Count Round")).toBeGreaterThanOrEqual(1);
      expect(counts.get("Wait For Channel Running: Await Event")).toBeGreaterThanOrEqual(1);
      expect((await t.stopStreaming(sessionId)).execution.status).toBe("SUCCEEDED");
      expect((await t.endSession(sessionId)).execution.status).toBe("SUCCEEDED");
      expect((await t.session(sessionId)).status).toBe("ended");
    } finally {
      await t.sim("DELETE", "/_sim/faults");
    }
    await expectNothingLeft();
  });

  it("with events lost, late, repeated and reordered, sessions and destinations end right and leave nothing", async () => {
    // The first events certainly get each kind of fault (a `times` fault goes once used up),
    // then the chaos mix draws at random.
    const late = pastFallbackMs(TIME_SCALE);
    const certain: string[] = [];
    for (const fault of [
      { service: "events", action: "duplicate", times: 2, delayMs: late },
      { service: "events", action: "reorder", times: 2 },
      { service: "events", action: "delay", times: 2, delayMs: late },
      { service: "events", action: "drop", times: 2 },
    ]) {
      const added = await t.sim("POST", "/_sim/faults", fault);
      certain.push(added.body.id as string);
    }
    for (const fault of eventFaults(TIME_SCALE)) await t.fault(fault as never);
    try {
      await Promise.all([
        sessionLife("events-host-1"),
        sessionLife("events-host-2"),
        destinationLife("events-host-3"),
        destinationLife("events-host-4"),
      ]);
      const faults = (await t.sim("GET", "/_sim/faults")).body.faults as {
        id: string;
        action?: string;
        hits: number;
      }[];
      // Every kind of fault happened, so the run tested what it claims: the certain ones were used
      // up, and the random mix hit events too.
      expect(faults.filter((f) => certain.includes(f.id))).toEqual([]);
      expect(faults.reduce((n, f) => n + f.hits, 0)).toBeGreaterThan(0);
    } finally {
      await t.sim("DELETE", "/_sim/faults");
    }
    await expectNothingLeft();
  });

  it("takes a late event that reports a state the channel has left as a hint: it describes again, it does not fail", async () => {
    // The channel's own events are lost, so the wait rests on its rounds; then a stale STOPPED
    // (IDLE) event, stamped now, arrives while go-live waits for RUNNING.
    await t.fault({ service: "events", action: "drop", detailType: CHANNEL_EVENTS, rate: 1 });
    try {
      const sessionId = await t.createSession();
      const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
      const arn = start.body.executionArn as string;
      // Start Channel (the RUNNING wait's first round) has registered and started the channel.
      await eventually(async () => {
        const h = await t.history(arn);
        const entered = h.findIndex((e) => e.stateEnteredEventDetails?.name === "Start Channel");
        return entered >= 0 && h.slice(entered).some((e) => e.type === "TaskSubmitted");
      });
      const { channelArn } = (await t.session(sessionId)).mediaLive;
      t.h.rt.events.publish({
        version: "0",
        id: randomUUID(),
        "detail-type": CHANNEL_EVENTS,
        source: "aws.medialive",
        account: "000000000000",
        time: new Date().toISOString(),
        region: "us-east-1",
        resources: [channelArn],
        detail: {
          channel_arn: channelArn,
          state: "STOPPED",
          message: "Stopped channel",
          pipelines_running_count: 0,
        },
      });
      const execution = await t.waitFor(arn);

      expect(execution.status, `${execution.error}: ${execution.cause}`).toBe("SUCCEEDED");
      const counts = await entered(arn);
      // The event ended Start Channel's round; another round described the channel (STARTING).
      expect(counts.get("Wait For Channel Running: Count Round")).toBeGreaterThanOrEqual(1);
      await t.endSession(sessionId);
    } finally {
      await t.sim("DELETE", "/_sim/faults");
    }
  });

  it("leaves no wait registration behind when the events came", async () => {
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: t.h.rt.endpoints.dynamodb, region: "us-east-1" }),
    );
    const left = async (pk: string) => {
      const res = await client.send(
        new QueryCommand({
          TableName: t.h.rt.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": pk },
        }),
      );
      return (res.Items ?? []).map((i) => i.sk);
    };
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    const { channelId } = (await t.session(sessionId)).mediaLive;
    // Only the channel's latest event is kept beside them (it expires like the registrations).
    expect(await left(`wait#channel#${channelId}`)).toEqual(["~last"]);
    await t.endSession(sessionId);
    // A flow's waits always describe: nothing of its events is kept.
    const flowArn = await destinationLife("events-host-5");
    expect(await left(`wait#flow#${flowArn}`)).toEqual([]);
  });
});
