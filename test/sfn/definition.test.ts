import { describe, expect, it } from "vitest";
import { MAX_TIMER_SECONDS, prepareDefinition } from "#local/sfn/definition.ts";
import {
  createSfnService,
  currentStateName,
  InvalidDefinitionError,
  UnsupportedDefinitionError,
} from "#local/sfn/index.ts";
import { lambdaArn } from "./helpers.ts";

const noTasks = async () => ({});

function service(definition: Record<string, unknown>) {
  return createSfnService({ machines: [{ name: "m", definition }], invokeTask: noTasks });
}

describe("definitions the engine would silently misrun are refused", () => {
  it("refuses QueryLanguage JSONata at the top level", () => {
    expect(() =>
      service({ QueryLanguage: "JSONata", StartAt: "P", States: { P: { Type: "Pass", End: true } } }),
    ).toThrow(UnsupportedDefinitionError);
  });

  it("refuses Assign, Arguments and Output, also inside Parallel branches and Map processors", () => {
    const definition = {
      StartAt: "Par",
      States: {
        Par: {
          Type: "Parallel",
          Branches: [{ StartAt: "A", States: { A: { Type: "Pass", Assign: { x: 1 }, End: true } } }],
          Next: "Each",
        },
        Each: {
          Type: "Map",
          ItemProcessor: {
            StartAt: "T",
            States: {
              T: {
                Type: "Task",
                Resource: lambdaArn("f"),
                Arguments: { a: 1 },
                Output: "{% $states.result %}",
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };
    let error: unknown;
    try {
      service(definition);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsupportedDefinitionError);
    const locations = (error as UnsupportedDefinitionError).locations;
    expect(locations).toEqual([
      "States.Par.Branches[0].States.A: Assign",
      "States.Each.ItemProcessor.States.T: Arguments",
      "States.Each.ItemProcessor.States.T: Output",
    ]);
    expect((error as Error).message).toContain("'m'");
  });

  it("refuses a state-level JSONata QueryLanguage", () => {
    expect(() =>
      service({ StartAt: "P", States: { P: { Type: "Pass", QueryLanguage: "JSONata", End: true } } }),
    ).toThrow(/QueryLanguage "JSONata"/);
  });

  it("refuses an invalid definition with the machine name", () => {
    expect(() => service({ StartAt: "Missing", States: { P: { Type: "Pass", End: true } } })).toThrow(
      InvalidDefinitionError,
    );
  });

  it("accepts an explicit JSONPath QueryLanguage and leaves the input definition untouched", () => {
    const definition = {
      QueryLanguage: "JSONPath",
      StartAt: "P",
      States: { P: { Type: "Pass", End: true } },
    };
    const before = structuredClone(definition);
    expect(() => service(definition)).not.toThrow();
    expect(definition).toEqual(before);
  });
});

describe("the time-scaled copy", () => {
  const definition = {
    TimeoutSeconds: 3600,
    StartAt: "W",
    States: {
      W: { Type: "Wait", Seconds: 600, Next: "T" },
      T: {
        Type: "Task",
        Resource: lambdaArn("f"),
        TimeoutSeconds: 30,
        Retry: [
          {
            ErrorEquals: ["A"],
            IntervalSeconds: 2,
            MaxDelaySeconds: 60,
            BackoffRate: 2,
            JitterStrategy: "FULL",
          },
          { ErrorEquals: ["B"] },
        ],
        Next: "P",
      },
      P: {
        Type: "Parallel",
        Branches: [
          {
            StartAt: "Inner",
            States: {
              Inner: {
                Type: "Task",
                Resource: "arn:aws:states:::lambda:invoke",
                Parameters: { FunctionName: "f" },
                End: true,
              },
            },
          },
        ],
        End: true,
      },
    },
  };

  it("scales waits, retry intervals and max delays but not task or execution timeouts", () => {
    const prepared = prepareDefinition("m", definition, 0.01);
    const runnable = prepared.runnable as unknown as typeof definition;
    expect(runnable.States.W.Seconds).toBeCloseTo(6);
    expect(runnable.States.T.Retry[0]).toMatchObject({
      IntervalSeconds: 0.02,
      MaxDelaySeconds: 0.6,
      BackoffRate: 2,
      JitterStrategy: "FULL",
    });
    // The engine's default interval (1 s) is made explicit so it is scaled too.
    expect(runnable.States.T.Retry[1]?.IntervalSeconds).toBeCloseTo(0.01);
    expect(runnable.States.T.TimeoutSeconds).toBe(30);
    expect(runnable.TimeoutSeconds).toBe(3600);
    // A task without a timeout gets no 60 s engine default.
    const inner = (runnable.States.P.Branches[0]?.States.Inner ?? {}) as { TimeoutSeconds?: number };
    expect(inner.TimeoutSeconds).toBe(MAX_TIMER_SECONDS);
    // The original is untouched.
    expect(definition.States.W.Seconds).toBe(600);
  });

  it("finds Task states by name, nested ones included, with their kind", () => {
    const prepared = prepareDefinition("m", definition, 1);
    expect(prepared.tasks.map((task) => [task.name, task.kind])).toEqual([
      ["T", "lambda-function"],
      ["Inner", "lambda-invoke"],
    ]);
    expect(prepared.states.get("Inner")?.type).toBe("Task");
  });

  it("refuses duplicate state names across nested machines", () => {
    expect(() =>
      prepareDefinition(
        "m",
        {
          StartAt: "P",
          States: {
            P: {
              Type: "Parallel",
              Branches: [{ StartAt: "X", States: { X: { Type: "Pass", End: true } } }],
              Next: "X",
            },
            X: { Type: "Pass", End: true },
          },
        },
        1,
      ),
    ).toThrow(/DUPLICATE_STATE_NAMES|repeated: X/);
  });
});

describe("currentStateName", () => {
  const entered = (id: number, name: string, type = "TaskStateEntered") => ({
    id,
    type,
    stateEnteredEventDetails: { name },
  });
  const exited = (id: number, name: string, type = "TaskStateExited") => ({
    id,
    type,
    stateExitedEventDetails: { name },
  });

  it("returns the innermost open state", () => {
    expect(
      currentStateName([
        { id: 1, type: "ExecutionStarted" },
        entered(2, "Setup"),
        exited(3, "Setup"),
        entered(4, "Fan Out", "ParallelStateEntered"),
        entered(5, "Branch A"),
        entered(6, "Branch B"),
        exited(7, "Branch B"),
      ]),
    ).toBe("Branch A");
  });

  it("closes nested states when their Parallel exits and accepts reverse order", () => {
    const events = [
      entered(1, "Fan Out", "ParallelStateEntered"),
      entered(2, "Branch Fail", "FailStateEntered"),
      exited(3, "Fan Out", "ParallelStateExited"),
      entered(4, "Next Step", "WaitStateEntered"),
    ];
    expect(currentStateName(events)).toBe("Next Step");
    expect(currentStateName([...events].reverse())).toBe("Next Step");
    expect(currentStateName(events.slice(0, 3))).toBeUndefined();
    expect(currentStateName([])).toBeUndefined();
  });
});
