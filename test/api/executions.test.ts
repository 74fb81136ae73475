import {
  DescribeStateMachineCommand,
  type DescribeStateMachineCommandOutput,
  ListStateMachinesCommand,
} from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import { stackDefinitions } from "#local/definitions.ts";
import { currentStateName } from "#local/sfn/history.ts";
import { pollingLoop, TASK_EVENT } from "#state-machines/workflow/history-events.ts";
import { eventually, useLocalRuntime } from "#test/workflows/harness.ts";

// Channels take 10 hours to start unless a test advances them: go-live waits for RUNNING for as
// long as a test needs (or until the wait's 750 s budget, 1.5 s at the test time scale: rounds
// of 120 s, each waiting for the channel's next event and describing it again when none came).
const t = useLocalRuntime({ legacyProgramChannels: true, simulatorDurations: { channelStart: 36_000 } });

const NOT_FOUND = { error: { code: "not_found", message: "Execution not found" } };
/** The only members a history event may have: no input, output or parameters. */
const EVENT_MEMBERS = new Set(["id", "timestamp", "type", "state", "error", "cause"]);

interface CompactEvent {
  id: number;
  timestamp: string;
  type: string;
  state?: string;
  error?: string;
  cause?: string;
}

/** Every page of GET /executions/{id}/history, and the raw answers. */
async function historyPages(id: string, limit?: number, user = "host-1") {
  const pages: { events: CompactEvent[]; nextToken?: string }[] = [];
  const raws: string[] = [];
  let nextToken: string | undefined;
  do {
    const query = new URLSearchParams({
      ...(limit !== undefined ? { limit: String(limit) } : {}),
      ...(nextToken ? { nextToken } : {}),
    });
    const res = await t.api("GET", `/executions/${id}/history?${query}`, { user });
    expect(res.status).toBe(200);
    pages.push(res.body);
    raws.push(res.raw);
    nextToken = res.body.nextToken;
  } while (nextToken);
  return { pages, events: pages.flatMap((p) => p.events), raw: raws.join("\n") };
}

/**
 * The compact history says what Step Functions' own says, event for event: same ids, types and
 * times, the state of every state event, and for each task event the task state it belongs to.
 */
async function expectSameHistory(executionArn: string, events: CompactEvent[]) {
  const full = await t.history(executionArn, false);
  expect(events.map((e) => e.id)).toEqual(full.map((e) => e.id));
  expect(events.map((e) => e.type)).toEqual(full.map((e) => e.type));
  expect(events.map((e) => Date.parse(e.timestamp))).toEqual(full.map((e) => e.timestamp?.getTime()));
  full.forEach((e, i) => {
    const state =
      e.stateEnteredEventDetails?.name ??
      e.stateExitedEventDetails?.name ??
      (TASK_EVENT.test(e.type ?? "") ? currentStateName(full.slice(0, i)) : undefined);
    expect(events[i]?.state).toBe(state);
  });
  for (const e of events) for (const key of Object.keys(e)) expect(EVENT_MEMBERS).toContain(key);
}

describe("GET /executions/{arn or name}", () => {
  it("follows a go-live by its name: the wait's progress, then its whole history page by page", async () => {
    // Prepare: a go-live whose channel keeps STARTING.
    const sessionId = await t.createSession();
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const name = start.body.executionName as string;
    expect(name).toBe(`go-live-${sessionId}-1`);
    const inLoop = async () => {
      const res = await t.api("GET", `/executions/${name}`);
      return res.body.progress?.state === "Wait For Channel Running" ? res.body : undefined;
    };

    // Act: read it twice while it waits for the channel.
    const first = await eventually(inLoop);
    await new Promise((r) => setTimeout(r, 300));
    const second = await eventually(inLoop);

    // Assess: the wait is measured from its entry against its whole bound (5 s x 150 polls; its
    // rounds after Start Channel, the first, are states of the wait).
    expect(first).toMatchObject({
      executionArn: start.body.executionArn,
      name,
      status: "RUNNING",
      sessionId,
      currentState: expect.stringMatching(
        /^Wait For Channel Running: (Await Event|Check State|Count Round|Rounds Left\?)$/,
      ),
      progress: { state: "Wait For Channel Running", budgetSeconds: 750 },
    });
    expect(first).not.toHaveProperty("failure");
    // Time since the wait began grows by the 300 ms slept, whichever round each read is in.
    // (Rounded to 0.1 s each.)
    expect(second.progress.elapsedSeconds - first.progress.elapsedSeconds).toBeGreaterThanOrEqual(0.2);
    expect(second.progress.elapsedSeconds).toBeLessThan(750);
    // It is the same execution by its ARN.
    const byArn = await t.api("GET", `/executions/${encodeURIComponent(start.body.executionArn)}`);
    expect(byArn.body).toMatchObject({ name, status: "RUNNING", sessionId });

    const { channelId } = (await t.session(sessionId)).mediaLive;
    await t.sim("POST", "/_sim/advance", { resourceId: channelId });
    expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");

    const done = await t.api("GET", `/executions/${name}`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: "SUCCEEDED", sessionId, output: { sessionId, channelId } });
    for (const key of ["currentState", "progress", "failure", "retries", "input"]) {
      expect(done.body).not.toHaveProperty(key);
    }

    // (A go-live that waits on events has a short history: pages of 20 make several.)
    const { pages, events, raw } = await historyPages(name, 20);
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages.slice(0, -1)) expect(page.events).toHaveLength(20);
    expect(events[0]).toMatchObject({ id: 1, type: "ExecutionStarted" });
    expect(events.at(-1)?.type).toBe("ExecutionSucceeded");
    expect(events.find((e) => e.type === "LambdaFunctionScheduled")).toMatchObject({
      state: "Claim Session",
    });
    // The wait's rounds are callback tasks (lambda:invoke.waitForTaskToken): Task* events.
    expect(events.find((e) => e.type === "TaskScheduled")).toMatchObject({
      state: "Wait For Channel Ready: Await Event",
    });
    expect(events.filter((e) => e.type === "TaskScheduled").map((e) => e.state)).toContain("Start Channel");
    await expectSameHistory(start.body.executionArn, events);
    // The stream key was in use, and is in no page.
    const keys = t.h.rt.simulator.resources().ivs.streamKeys.map((k) => String(k.value));
    expect(JSON.stringify(t.h.rt.simulator.resources().medialive.channels)).toContain(keys[0]);
    for (const key of keys) expect(raw).not.toContain(key);
    // Without a limit, pages of 50.
    const byDefault = await t.api("GET", `/executions/${name}/history`);
    expect(events.length).toBeGreaterThan(50);
    expect(byDefault.body.events).toEqual(events.slice(0, 50));
  });

  it("names the state that failed, its AWS error by name only, and the retries before it", async () => {
    // Prepare: StartChannel is throttled past the SDK's 3 attempts (one task failure, retried
    // by the state), then refused with a message that names a role. Start Channel is the first
    // round of the wait for RUNNING, a callback task: its attempts fail as TaskFailed.
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "TooManyRequestsException",
      times: 3,
    });
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "ForbiddenException",
      message: "User arn:aws:sts::000000000000:assumed-role/castflow-task/x is not authorized",
    });
    const sessionId = await t.createSession();

    // Act
    const { start, execution } = await t.goLive(sessionId);
    const name = `go-live-${sessionId}-1`;
    const view = await t.api("GET", `/executions/${name}`);

    // Assess
    expect(execution.status).toBe("FAILED");
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      executionArn: start.body.executionArn,
      status: "FAILED",
      sessionId,
      failure: {
        state: "Start Channel",
        error: "ForbiddenException",
        cause: "An AWS call failed with ForbiddenException; the execution history has the details",
      },
      retries: 1,
      error: { code: "ForbiddenException" },
    });
    expect(view.body).not.toHaveProperty("currentState");
    expect(view.body).not.toHaveProperty("progress");

    const { events, raw } = await historyPages(name, 100);
    const failures = events.filter((e) => /^(Task|LambdaFunction)Failed$/.test(e.type));
    // The clean-up may meet the input still attached to the channel it is deleting: retried.
    const [work, cleanUp] = [
      failures.filter((e) => e.state === "Start Channel"),
      failures.filter((e) => e.state !== "Start Channel"),
    ];
    expect(cleanUp.map((e) => [e.state, e.error])).toEqual(
      cleanUp.map(() => ["Delete Created Input", "ChannelNotReady"]),
    );
    expect(work).toEqual([
      expect.objectContaining({
        state: "Start Channel",
        error: "TooManyRequestsException",
        cause: "An AWS call failed with TooManyRequestsException; the execution history has the details",
      }),
      expect.objectContaining({ state: "Start Channel", error: "ForbiddenException" }),
    ]);
    expect(events.at(-1)).toMatchObject({ type: "ExecutionFailed", error: "ForbiddenException" });
    await expectSameHistory(start.body.executionArn, events);
    // The AWS message is in Step Functions' history (for operators), in no answer of the API.
    expect(JSON.stringify(await t.history(start.body.executionArn))).toContain("assumed-role");
    for (const text of [view.raw, raw]) expect(text).not.toContain("assumed-role");
  });

  it("shows a task's retries and timeout while it runs, and a wait that ran out as the failed state", async () => {
    // Prepare: the channel never reaches RUNNING within the wait; the compensation then cannot
    // stop a STARTING channel (ChannelNotReady, retried).
    const sessionId = await t.createSession();
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const name = start.body.executionName as string;

    // Act: catch the compensation's stop retrying.
    const stopping = await eventually(async () => {
      const res = await t.api("GET", `/executions/${name}`);
      return res.body.currentState === "Stop Channel" && res.body.retries >= 1 ? res.body : undefined;
    });
    const { channelId } = (await t.session(sessionId)).mediaLive;
    await t.sim("POST", "/_sim/advance", { resourceId: channelId });
    await t.waitFor(start.body.executionArn);
    const failed = await t.api("GET", `/executions/${name}`);

    // Assess: a task state against its TimeoutSeconds (Stop Channel is the first round of the
    // wait for the channel stopped: its round's 60 s).
    expect(stopping).toMatchObject({
      status: "RUNNING",
      progress: { state: "Stop Channel", budgetSeconds: 60 },
    });
    expect(stopping.progress.elapsedSeconds).toBeGreaterThanOrEqual(0);
    // The wait's own Fail state is where it failed; the cause is castflow's, so it is kept.
    expect(failed.body).toMatchObject({
      status: "FAILED",
      failure: {
        state: "Wait For Channel Running: Timed Out",
        error: "ChannelWaitTimeout",
        cause: `Channel ${channelId} did not reach RUNNING within 750 s (Wait For Channel Running)`,
      },
    });
    expect(failed.body).not.toHaveProperty("retries");
  });

  it("answers 404 `Execution not found` for unknown names and other hosts' executions, 400 for what is no id", async () => {
    const sessionId = await t.createSession();
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const name = start.body.executionName as string;
    const arnPath = encodeURIComponent(start.body.executionArn);

    for (const path of [`/executions/${name}`, `/executions/${arnPath}`, `/executions/${name}/history`]) {
      const res = await t.api("GET", path, { user: "someone-else" });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(NOT_FOUND);
      expect((await t.api("GET", path, { user: "ops", admin: true })).status).toBe(200);
    }
    for (const unknown of [
      `go-live-${sessionId}-2`, // the next one, not started
      "go-live-no-such-session-1",
      "no-such-lifecycle-x-1",
      encodeURIComponent("arn:aws:states:us-east-1:000000000000:execution:someone-elses:run-1"),
    ]) {
      for (const path of [`/executions/${unknown}`, `/executions/${unknown}/history`]) {
        const res = await t.api("GET", path);
        expect(res.status).toBe(404);
        expect(res.body).toEqual(NOT_FOUND);
      }
    }

    for (const malformed of ["not-an-arn", "go-live", `${"x".repeat(81)}-1`]) {
      const res = await t.api("GET", `/executions/${malformed}`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain("executionArn");
    }
    for (const limit of ["0", "101", "ten", "1.5"]) {
      const res = await t.api("GET", `/executions/${name}/history?limit=${limit}`);
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toEqual([
        { field: "limit", reason: "must be a whole number from 1 to 100" },
      ]);
    }
    const forged = await t.api("GET", `/executions/${name}/history?nextToken=not-a-token`);
    expect(forged.status).toBe(400);
    expect(forged.body.error.details.fields[0].field).toBe("nextToken");

    const channel = await eventually(async () =>
      t.liveMediaLive().channels.find((c) => c.state === "STARTING"),
    );
    await t.sim("POST", "/_sim/advance", { resourceId: channel.id });
    expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");
  });
});

describe("polling loop budgets", () => {
  it("are those of the synthesized definitions, for every loop whose wait waits.ts declares", async () => {
    type State = {
      Type: string;
      Seconds?: number;
      TimeoutSeconds?: number;
      Resource?: string;
      Choices?: unknown[];
      Branches?: { States: Record<string, State> }[];
    };
    /** Every state of a definition, those of Parallel branches included. */
    const statesOf = (definition: { States?: Record<string, State> }) => {
      const states = new Map<string, State>();
      const collect = (all: Record<string, State>) => {
        for (const [n, s] of Object.entries(all)) {
          states.set(n, s);
          for (const b of s.Branches ?? []) collect(b.States);
        }
      };
      collect(definition.States ?? {});
      return states;
    };
    type Loop = { machine: string; entry: string; declared: boolean };
    const sessionLoops = (loops: Loop[]) =>
      loops.filter((l) => /-(go-live|stop-streaming|end-session)$/.test(l.machine));

    // Polling (`castflow:waits` = `polling`): a pause between polls, up to the Choice's bound.
    const polling: Loop[] = [];
    for (const m of stackDefinitions({ "castflow:waits": "polling" }).machines) {
      const states = statesOf(m.definition);
      for (const [n, s] of states) {
        if (s.Type !== "Wait" || !n.endsWith(": Pause")) continue;
        const entry = n.slice(0, -": Pause".length);
        // The Choice gives up once `$.wait.polls` reaches the bound.
        const bound = JSON.stringify(states.get(`${entry}: Check State`)?.Choices).match(
          /"Variable":"\$\.wait\.polls","NumericGreaterThanEquals":(\d+)/,
        );
        expect(bound, `${m.name}: ${entry}`).not.toBeNull();
        const budget = (s.Seconds ?? 0) * Number(bound?.[1]);
        const known = pollingLoop(n);
        polling.push({ machine: m.name, entry, declared: known !== undefined });
        if (known) expect(known, `${m.name}: ${entry}`).toEqual({ entry, budgetSeconds: budget });
        if (entry === "Wait For Channel Running") expect(budget).toBe(750);
        for (const step of ["", ": Poll", ": Check State", ": Count Poll"]) {
          expect(pollingLoop(`${entry}${step}`)).toEqual(known);
        }
      }
    }
    // go-live and the session lifecycles wait only on declared waits.
    expect(sessionLoops(polling).map((l) => l.entry)).toEqual(
      expect.arrayContaining([
        "Wait For Channel Ready",
        "Wait For Channel Running",
        "Repoint: Wait For Channel Stopped",
        "Wait For Input Detached",
      ]),
    );
    expect(sessionLoops(polling).filter((l) => !l.declared)).toEqual([]);

    // Events (the runtime's, as deployed): rounds of a callback task whose TimeoutSeconds is the
    // fallback, counted until "Rounds Left?" finds the budget spent; the API measures them against the
    // declared budget all the same.
    const events: Loop[] = [];
    const machines = (await t.h.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
    for (const m of machines) {
      const described: DescribeStateMachineCommandOutput = await t.h.sfn.send(
        new DescribeStateMachineCommand({ stateMachineArn: m.stateMachineArn }),
      );
      const states = statesOf(JSON.parse(described.definition ?? "{}"));
      for (const [n, s] of states) {
        if (s.Type !== "Choice" || !n.endsWith(": Rounds Left?")) continue;
        const entry = n.slice(0, -": Rounds Left?".length);
        const bound = JSON.stringify(s.Choices).match(
          /"Variable":"\$\.wait\.spent","NumericGreaterThanEquals":(\d+)/,
        );
        expect(bound, `${m.name}: ${entry}`).not.toBeNull();
        const round = states.get(`${entry}: Await Event`);
        expect(round?.Resource, `${m.name}: ${entry}`).toMatch(/lambda:invoke\.waitForTaskToken$/);
        const fallback = round?.TimeoutSeconds ?? 0;
        expect(fallback, `${m.name}: ${entry}`).toBeGreaterThan(0);
        const known = pollingLoop(n);
        events.push({ machine: m.name ?? "", entry, declared: known !== undefined });
        if (known) {
          expect(known.entry, `${m.name}: ${entry}`).toBe(entry);
          // The wait gives up once it has spent the declared budget (rounds that ran out count
          // their fallback, polls of a silent state their pause).
          expect(Number(bound?.[1]), `${m.name}: ${entry}`).toBe(known.budgetSeconds);
        }
        if (entry === "Wait For Channel Running")
          expect([fallback, known?.budgetSeconds]).toEqual([120, 750]);
        for (const step of [
          "",
          ": Await Event",
          ": Check State",
          ": Count Round",
          ": Rounds Left?",
          ": Pause",
          ": Count Poll",
        ]) {
          expect(pollingLoop(`${entry}${step}`)).toEqual(known);
        }
      }
    }
    // Each channel wait of the session lifecycles waits on events; the teardown's wait is for the
    // channel's DELETED event, not for its input to detach.
    expect(sessionLoops(events).map((l) => l.entry)).toEqual(
      expect.arrayContaining([
        "Wait For Channel Ready",
        "Wait For Channel Running",
        "Repoint: Wait For Channel Stopped",
        "Wait For Channel Stopped",
        "Wait For Channel Deleted",
      ]),
    );
    expect(sessionLoops(events).filter((l) => !l.declared)).toEqual([]);
    // A first round (the action, then the wait) is a task of its own, not a state of the wait.
    expect(pollingLoop("Start Channel")).toBeUndefined();
  });
});
