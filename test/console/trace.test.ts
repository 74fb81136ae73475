import { describe, expect, it } from "vitest";
import { aslToGraph, END, START, type StateGraph } from "#local/console/graph.ts";
import { compactEvents, type HistoryEventInput, traceExecution } from "#local/console/trace.ts";

// A go-live in small: a claim with a catch, a Parallel whose failure runs a compensation.
const CLAIM = "arn:aws:lambda:us-east-1:000000000000:function:claim";
const CALL = "arn:aws:lambda:us-east-1:000000000000:function:call";
const UNDO = "arn:aws:lambda:us-east-1:000000000000:function:undo";
const graph = aslToGraph({
  StartAt: "Claim",
  States: {
    Claim: { Type: "Task", Resource: CLAIM, Next: "Work", Catch: [{ ErrorEquals: ["Busy"], Next: "Busy" }] },
    Work: {
      Type: "Parallel",
      Next: "Done",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Undo" }],
      Branches: [
        {
          StartAt: "Call",
          States: {
            Call: { Type: "Task", Resource: CALL, Retry: [{ ErrorEquals: ["Throttled"] }], End: true },
          },
        },
      ],
    },
    Done: { Type: "Succeed" },
    Busy: { Type: "Succeed" },
    Undo: { Type: "Task", Resource: UNDO, Next: "Failed" },
    Failed: { Type: "Fail" },
  },
});

/** History events as the SFN API gives them (the SDK's shape). */
function history(...steps: [string, Record<string, unknown>?][]): HistoryEventInput[] {
  return steps.map(([type, details], i) => ({
    id: i + 1,
    type,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    ...details,
  }));
}
const entered = (type: string, name: string) =>
  [`${type}StateEntered`, { stateEnteredEventDetails: { name } }] as [string, Record<string, unknown>];
const exited = (type: string, name: string) =>
  [`${type}StateExited`, { stateExitedEventDetails: { name } }] as [string, Record<string, unknown>];
const scheduled = (resource: string) =>
  ["LambdaFunctionScheduled", { lambdaFunctionScheduledEventDetails: { resource } }] as [
    string,
    Record<string, unknown>,
  ];
const failed = (error: string, cause: string) =>
  ["LambdaFunctionFailed", { lambdaFunctionFailedEventDetails: { error, cause } }] as [
    string,
    Record<string, unknown>,
  ];
const ok = ["LambdaFunctionSucceeded", {}] as [string, Record<string, unknown>];

const edge = (g: StateGraph, from: string, to: string) =>
  g.edges.find((e) => e.from === from && e.to === to)?.id;

const upToCall = [
  ["ExecutionStarted", {}],
  entered("Task", "Claim"),
  scheduled(CLAIM),
  ok,
  exited("Task", "Claim"),
  entered("Parallel", "Work"),
  ["ParallelStateStarted", {}],
  entered("Task", "Call"),
  scheduled(CALL),
] as [string, Record<string, unknown>?][];

describe("traceExecution", () => {
  it("a failure after a retry: the failed state with its error, the catch taken, the compensation", () => {
    // Prepare
    const events = compactEvents(
      history(
        ...upToCall,
        failed("Throttled", "slow down"),
        scheduled(CALL),
        failed("Bad", "the request was refused"),
        ["ParallelStateFailed", {}],
        exited("Parallel", "Work"),
        entered("Task", "Undo"),
        scheduled(UNDO),
        ok,
        exited("Task", "Undo"),
        entered("Fail", "Failed"),
        [
          "ExecutionFailed",
          { executionFailedEventDetails: { error: "Bad", cause: "the request was refused" } },
        ],
      ),
    );

    // Act
    const trace = traceExecution(graph, events, "FAILED");

    // Assess
    expect(trace.states).toMatchObject({
      Claim: { status: "succeeded", entered: 1, attempts: 1, retries: 0 },
      Work: { status: "failed", caught: true, error: "Bad" },
      Call: { status: "failed", attempts: 2, retries: 1, error: "Bad", cause: "the request was refused" },
      Undo: { status: "succeeded" },
      Failed: { status: "failed", error: "Bad" },
    });
    expect(trace.states.Busy).toBeUndefined();
    expect(new Set(trace.edges)).toEqual(
      new Set([
        edge(graph, START, "Claim"),
        edge(graph, "Claim", "Work"),
        edge(graph, "Work", "Undo"),
        edge(graph, "Undo", "Failed"),
      ]),
    );
    expect(trace.failure).toEqual({ state: "Call", error: "Bad", cause: "the request was refused" });
    expect(trace.retries).toBe(1);
    expect(trace.current).toEqual([]);
  });

  it("a running execution: the innermost open state is current, its container running", () => {
    const trace = traceExecution(graph, compactEvents(history(...upToCall)), "RUNNING");
    expect(trace.current).toEqual(["Call"]);
    expect(trace.states.Work?.status).toBe("running");
    expect(trace.states.Call?.status).toBe("running");
    expect(trace.failure).toBeUndefined();
  });

  it("a success: the branch's end, the Parallel's next and the end are taken", () => {
    const trace = traceExecution(
      graph,
      compactEvents(
        history(
          ...upToCall,
          ok,
          exited("Task", "Call"),
          ["ParallelStateSucceeded", {}],
          exited("Parallel", "Work"),
          entered("Succeed", "Done"),
          exited("Succeed", "Done"),
          ["ExecutionSucceeded", {}],
        ),
      ),
      "SUCCEEDED",
    );
    expect(Object.values(trace.states).every((s) => s.status === "succeeded")).toBe(true);
    expect(trace.edges).toContain(edge(graph, "Work", "Done"));
    expect(trace.edges).toContain(edge(graph, "Done", END));
    expect(trace.edges).not.toContain(edge(graph, "Work", "Undo"));
  });

  it("a task caught by its own Catch goes along the catch edge, not the next one", () => {
    const trace = traceExecution(
      graph,
      compactEvents(
        history(
          ["ExecutionStarted", {}],
          entered("Task", "Claim"),
          scheduled(CLAIM),
          failed("Busy", "another lifecycle holds it"),
          exited("Task", "Claim"),
          entered("Succeed", "Busy"),
          exited("Succeed", "Busy"),
          ["ExecutionSucceeded", {}],
        ),
      ),
      "SUCCEEDED",
    );
    expect(trace.states.Claim).toMatchObject({ status: "failed", caught: true, error: "Busy" });
    expect(new Set(trace.edges)).toEqual(
      new Set([edge(graph, START, "Claim"), edge(graph, "Claim", "Busy"), edge(graph, "Busy", END)]),
    );
    expect(trace.failure).toBeUndefined();
  });

  it("a Fail state inside a branch: it is the failed state, with the error the execution ends with", () => {
    // Prepare: a wait that gives up (as castflow's wait fragments do) inside a Parallel
    const waits = aslToGraph({
      StartAt: "Bring Up",
      States: {
        "Bring Up": {
          Type: "Parallel",
          End: true,
          Catch: [{ ErrorEquals: ["States.ALL"], Next: "Gave Up" }],
          Branches: [
            {
              StartAt: "Poll",
              States: {
                Poll: { Type: "Task", Resource: CALL, Next: "Check" },
                Check: {
                  Type: "Choice",
                  Choices: [{ Variable: "$.ok", BooleanEquals: true, Next: "Up" }],
                  Default: "Timed Out",
                },
                Up: { Type: "Succeed" },
                "Timed Out": { Type: "Fail", ErrorPath: "$.failure.Error" },
              },
            },
          ],
        },
        "Gave Up": { Type: "Fail", ErrorPath: "$.error.Error" },
      },
    });
    const events = compactEvents(
      history(
        ["ExecutionStarted", {}],
        entered("Parallel", "Bring Up"),
        entered("Task", "Poll"),
        scheduled(CALL),
        failed("Throttled", "slow down"),
        scheduled(CALL),
        ok,
        exited("Task", "Poll"),
        entered("Choice", "Check"),
        exited("Choice", "Check"),
        entered("Fail", "Timed Out"),
        ["ParallelStateFailed", {}],
        exited("Parallel", "Bring Up"),
        entered("Fail", "Gave Up"),
        [
          "ExecutionFailed",
          { executionFailedEventDetails: { error: "ChannelTimeout", cause: "still STARTING" } },
        ],
      ),
    );

    // Act
    const trace = traceExecution(waits, events, "FAILED");

    // Assess: the retried task recovered; the Fail state and its container failed
    expect(trace.states.Poll).toMatchObject({ status: "succeeded", retries: 1 });
    expect(trace.states["Timed Out"]?.status).toBe("failed");
    expect(trace.states["Bring Up"]).toMatchObject({ status: "failed", caught: true });
    expect(trace.states["Bring Up"]?.error).toBeUndefined();
    expect(trace.states["Gave Up"]).toMatchObject({ status: "failed", error: "ChannelTimeout" });
    expect(trace.failure).toEqual({ state: "Timed Out", error: "ChannelTimeout", cause: "still STARTING" });
    expect(trace.edges).toContain(edge(waits, "Check", "Timed Out"));
    expect(trace.edges).toContain(edge(waits, "Bring Up", "Gave Up"));
  });

  it("an execution stopped mid-way: what was running is aborted", () => {
    const trace = traceExecution(
      graph,
      compactEvents(
        history(...upToCall, [
          "ExecutionAborted",
          { executionAbortedEventDetails: { error: "castflow.Stop" } },
        ]),
      ),
      "ABORTED",
    );
    expect(trace.states.Call?.status).toBe("aborted");
    expect(trace.states.Work?.status).toBe("aborted");
    expect(trace.current).toEqual([]);
  });
});

describe("compactEvents", () => {
  it("keeps names, errors and causes, never inputs, outputs or parameters", () => {
    const events = compactEvents([
      {
        id: 2,
        type: "TaskStateEntered",
        timestamp: new Date("2026-01-01T00:00:01Z"),
        stateEnteredEventDetails: { name: "Claim", input: '{"streamKey":"sk_live_secret"}' },
      } as HistoryEventInput,
      {
        id: 1,
        type: "TaskScheduled",
        timestamp: 1767225600,
        taskScheduledEventDetails: {
          resourceType: "lambda",
          resource: "invoke",
          parameters: "sk_live_secret",
        },
      } as HistoryEventInput,
    ]);
    expect(events).toEqual([
      { id: 1, type: "TaskScheduled", timestamp: "2026-01-01T00:00:00.000Z", resource: "lambda:invoke" },
      { id: 2, type: "TaskStateEntered", timestamp: "2026-01-01T00:00:01.000Z", state: "Claim" },
    ]);
    expect(JSON.stringify(events)).not.toContain("secret");
  });
});
