import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSfnService, currentStateName, type SfnService, type TaskInvoker } from "#local/sfn/index.ts";
import { deferred, lambdaArn, namedError, sfnClient, until } from "./helpers.ts";

// One service for the whole file: definitions are validated once at construction (~100 ms each).

const invocations: Array<{ resource: string; stateName: string; input: unknown; executionArn: string }> = [];
const flakyAttempts = new Map<string, number>();
let hold = deferred();

const invokeTask: TaskInvoker = async (request) => {
  invocations.push(request);
  const input = request.input as Record<string, unknown>;
  switch (request.stateName) {
    case "Greet":
      return { greeting: `hello ${String(input.who)}`, at: new Date(0) };
    case "Flaky": {
      const attempt = (flakyAttempts.get(request.executionArn) ?? 0) + 1;
      flakyAttempts.set(request.executionArn, attempt);
      if (attempt <= 2) throw namedError("TooManyRequestsException", `throttled on attempt ${attempt}`);
      return { attempt };
    }
    case "Provision":
      throw namedError("ConflictException", "channel is not IDLE");
    case "Push":
      return { pushed: (input.value as number) * 2 };
    case "Hold":
    case "Branch Hold":
      await hold.promise;
      return { held: true };
    case "Hang":
      return new Promise(() => {});
    default:
      return { stateName: request.stateName, input };
  }
};

const machines = [
  {
    name: "happy",
    definition: {
      StartAt: "Greet",
      States: {
        Greet: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          Parameters: { FunctionName: lambdaArn("greet"), "Payload.$": "$" },
          ResultSelector: { "greeting.$": "$.Payload.greeting", "status.$": "$.StatusCode" },
          ResultPath: "$.result",
          Next: "Done",
        },
        Done: { Type: "Succeed" },
      },
    },
  },
  {
    name: "retry",
    definition: {
      StartAt: "Flaky",
      States: {
        Flaky: {
          Type: "Task",
          Resource: lambdaArn("flaky"),
          Retry: [
            { ErrorEquals: ["TooManyRequestsException"], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
          ],
          End: true,
        },
      },
    },
  },
  {
    name: "catch",
    definition: {
      StartAt: "Provision",
      States: {
        Provision: {
          Type: "Task",
          Resource: lambdaArn("provision"),
          Catch: [{ ErrorEquals: ["ConflictException"], ResultPath: "$.error", Next: "Recover" }],
          End: true,
        },
        Recover: { Type: "Pass", End: true },
      },
    },
  },
  {
    name: "parallel-fail",
    definition: {
      StartAt: "Fan Out",
      States: {
        "Fan Out": {
          Type: "Parallel",
          Branches: [
            { StartAt: "Branch Ok", States: { "Branch Ok": { Type: "Pass", End: true } } },
            {
              StartAt: "Branch Fail",
              States: { "Branch Fail": { Type: "Fail", Error: "BranchBroke", Cause: "nope" } },
            },
          ],
          Catch: [{ ErrorEquals: ["BranchBroke"], ResultPath: "$.failure", Next: "Handled" }],
          Next: "Handled",
        },
        Handled: { Type: "Pass", End: true },
      },
    },
  },
  {
    name: "context",
    definition: {
      StartAt: "Top Task",
      States: {
        "Top Task": {
          Type: "Task",
          Resource: lambdaArn("ctx"),
          Parameters: { "name.$": "$$.Execution.Name", "id.$": "$$.Execution.Id" },
          ResultPath: null,
          Next: "Both",
        },
        Both: {
          Type: "Parallel",
          Branches: [
            {
              StartAt: "Branch Task",
              States: {
                "Branch Task": {
                  Type: "Task",
                  Resource: "arn:aws:states:::lambda:invoke",
                  Parameters: {
                    FunctionName: lambdaArn("ctx"),
                    Payload: { "name.$": "$$.Execution.Name", "id.$": "$$.Execution.Id" },
                  },
                  Next: "Branch Hold",
                },
                "Branch Hold": { Type: "Task", Resource: lambdaArn("hold"), End: true },
              },
            },
            { StartAt: "Other Branch", States: { "Other Branch": { Type: "Pass", End: true } } },
          ],
          End: true,
        },
      },
    },
  },
  {
    name: "map",
    definition: {
      StartAt: "Each Destination",
      States: {
        "Each Destination": {
          Type: "Map",
          ItemsPath: "$.items",
          ItemProcessor: {
            ProcessorConfig: { Mode: "INLINE" },
            StartAt: "Push",
            States: { Push: { Type: "Task", Resource: lambdaArn("push"), End: true } },
          },
          ResultPath: "$.results",
          End: true,
        },
      },
    },
  },
  {
    name: "wait",
    definition: {
      StartAt: "Long Wait",
      States: {
        "Long Wait": { Type: "Wait", Seconds: 600, Next: "Path Wait" },
        "Path Wait": { Type: "Wait", SecondsPath: "$.delay", Next: "Done" },
        Done: { Type: "Pass", End: true },
      },
    },
  },
  {
    name: "echo",
    definition: { StartAt: "Echo", States: { Echo: { Type: "Pass", End: true } } },
  },
  {
    name: "slow",
    definition: {
      StartAt: "Hold",
      States: { Hold: { Type: "Task", Resource: lambdaArn("hold"), End: true } },
    },
  },
  {
    name: "timeout",
    definition: {
      TimeoutSeconds: 1,
      StartAt: "Hang",
      States: { Hang: { Type: "Task", Resource: lambdaArn("hang"), End: true } },
    },
  },
];

let service: SfnService;
let client: SFNClient;
let url: string;

beforeAll(async () => {
  service = createSfnService({ machines, invokeTask, timeScale: 0.0001 });
  ({ url } = await service.listen());
  client = sfnClient(url);
});

afterAll(async () => {
  hold.resolve(undefined);
  client.destroy();
  await service.close();
});

async function start(machine: string, input: unknown, name?: string) {
  return client.send(
    new StartExecutionCommand({
      stateMachineArn: service.stateMachineArn(machine),
      input: JSON.stringify(input),
      ...(name === undefined ? {} : { name }),
    }),
  );
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
  return events ?? [];
}

const types = (events: HistoryEvent[]) => events.map((event) => event.type);

describe("executions through the SFN client", () => {
  it("runs a lambda:invoke task and returns the output", async () => {
    const { executionArn, startDate } = await start("happy", { who: "world" });
    // No name given: a UUID, as AWS generates.
    expect(executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:happy:[0-9a-f-]{36}$/);
    expect(startDate).toBeInstanceOf(Date);
    const done = await service.waitForExecution(executionArn ?? "");
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({
      who: "world",
      result: { greeting: "hello world", status: 200 },
    });
    const call = invocations.find((c) => c.executionArn === executionArn);
    expect(call).toMatchObject({ resource: lambdaArn("greet"), stateName: "Greet", input: { who: "world" } });

    const events = await history(executionArn ?? "");
    expect(types(events)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSucceeded",
      "TaskStateExited",
      "SucceedStateEntered",
      "SucceedStateExited",
      "ExecutionSucceeded",
    ]);
    expect(events[2]?.taskScheduledEventDetails).toMatchObject({
      resourceType: "lambda",
      resource: "invoke",
    });
    expect(JSON.parse(events[4]?.taskSucceededEventDetails?.output ?? "")).toEqual({
      Payload: { greeting: "hello world", at: "1970-01-01T00:00:00.000Z" },
      StatusCode: 200,
      ExecutedVersion: "$LATEST",
    });
  });

  it("retries a named error with backoff and shows every attempt in the history", async () => {
    const { executionArn = "" } = await start("retry", {});
    const done = await service.waitForExecution(executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ attempt: 3 });
    const events = await history(executionArn);
    expect(types(events)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "LambdaFunctionScheduled",
      "LambdaFunctionStarted",
      "LambdaFunctionFailed",
      "LambdaFunctionScheduled",
      "LambdaFunctionStarted",
      "LambdaFunctionFailed",
      "LambdaFunctionScheduled",
      "LambdaFunctionStarted",
      "LambdaFunctionSucceeded",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
    expect(events[4]?.lambdaFunctionFailedEventDetails).toEqual({
      error: "TooManyRequestsException",
      cause: "throttled on attempt 1",
    });
    expect(events[2]?.lambdaFunctionScheduledEventDetails?.resource).toBe(lambdaArn("flaky"));
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events.every((event) => event.timestamp instanceof Date)).toBe(true);
  });

  it("catches a named error into ResultPath", async () => {
    const { executionArn = "" } = await start("catch", { channelId: "c-1" });
    const done = await service.waitForExecution(executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({
      channelId: "c-1",
      error: { Error: "ConflictException", Cause: "channel is not IDLE" },
    });
    expect(types(await history(executionArn))).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "LambdaFunctionScheduled",
      "LambdaFunctionStarted",
      "LambdaFunctionFailed",
      "TaskStateExited",
      "PassStateEntered",
      "PassStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("catches a Fail state's error on the enclosing Parallel", async () => {
    const { executionArn = "" } = await start("parallel-fail", { x: 1 });
    const done = await service.waitForExecution(executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ x: 1, failure: { Error: "BranchBroke", Cause: "nope" } });
    const events = types(await history(executionArn));
    expect(events.slice(0, 3)).toEqual(["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]);
    expect(events).toContain("FailStateEntered");
    expect(events).not.toContain("ParallelStateSucceeded");
    expect(events.slice(-5)).toEqual([
      "ParallelStateFailed",
      "ParallelStateExited",
      "PassStateEntered",
      "PassStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("fails the execution with the task's error when nothing catches it", async () => {
    // "retry" only retries TooManyRequestsException 3 times: a 4th throttle is not caught.
    const { executionArn = "" } = await start("retry", {}, "throttled-forever");
    flakyAttempts.set(executionArn, -10);
    const done = await service.waitForExecution(executionArn);
    expect(done.status).toBe("FAILED");
    expect(done.error).toBe("TooManyRequestsException");
    expect(done.cause).toMatch(/^throttled on attempt/);
    const last = (await history(executionArn)).at(-1);
    expect(last?.type).toBe("ExecutionFailed");
    expect(last?.executionFailedEventDetails?.error).toBe("TooManyRequestsException");
  });

  it("runs a Map over ItemsPath", async () => {
    const { executionArn = "" } = await start("map", { items: [{ value: 1 }, { value: 2 }, { value: 3 }] });
    const done = await service.waitForExecution(executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "").results).toEqual([{ pushed: 2 }, { pushed: 4 }, { pushed: 6 }]);
    const events = await history(executionArn);
    expect(events.find((e) => e.type === "MapStateStarted")?.mapStateStartedEventDetails).toEqual({
      length: 3,
    });
    expect(
      events
        .filter((e) => e.type === "MapIterationSucceeded")
        .map((e) => e.mapIterationSucceededEventDetails?.index)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(events.filter((e) => e.type === "LambdaFunctionSucceeded")).toHaveLength(3);
    expect(types(events).slice(-3)).toEqual(["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]);
  });

  it("scales Wait Seconds and SecondsPath by timeScale", async () => {
    const began = Date.now();
    const { executionArn = "" } = await start("wait", { delay: 600 });
    const done = await service.waitForExecution(executionArn);
    const elapsed = Date.now() - began;
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ delay: 600 });
    // 2 x 600 s at 0.0001 = 2 x 60 ms.
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(900);
    expect(types(await history(executionArn))).toEqual([
      "ExecutionStarted",
      "WaitStateEntered",
      "WaitStateExited",
      "WaitStateEntered",
      "WaitStateExited",
      "PassStateEntered",
      "PassStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("passes $$.Execution.Name/Id to tasks, also inside a Parallel branch, and tracks the current state", async () => {
    hold = deferred();
    const { executionArn = "" } = await start("context", {}, "ctx-run-1");
    await until(() =>
      invocations.some((c) => c.executionArn === executionArn && c.stateName === "Branch Hold"),
    );
    const calls = invocations.filter((c) => c.executionArn === executionArn);
    const expected = { name: "ctx-run-1", id: executionArn };
    expect(calls.find((c) => c.stateName === "Top Task")?.input).toEqual(expected);
    expect(calls.find((c) => c.stateName === "Branch Task")?.input).toEqual(expected);

    const running = await history(executionArn);
    expect(currentStateName(running)).toBe("Branch Hold");
    hold.resolve(undefined);
    const done = await service.waitForExecution(executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(currentStateName(await history(executionArn))).toBeUndefined();
  });
});

describe("StartExecution name semantics", () => {
  it("is idempotent for the same name and input while running, then refuses the name", async () => {
    hold = deferred();
    const first = await start("slow", { a: 1 }, "once");
    const again = await start("slow", { a: 1 }, "once");
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());
    await until(() => invocations.some((c) => c.executionArn === first.executionArn));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(invocations.filter((c) => c.executionArn === first.executionArn)).toHaveLength(1);

    await expect(start("slow", { a: 2 }, "once")).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });

    hold.resolve(undefined);
    expect((await service.waitForExecution(first.executionArn ?? "")).status).toBe("SUCCEEDED");
    await expect(start("slow", { a: 1 }, "once")).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });
  });

  it("takes any JSON text as input, as AWS does: an array, a string, a number", async () => {
    for (const input of ["[1,2]", '"text"', "42", "null"]) {
      const { executionArn = "" } = await client.send(
        new StartExecutionCommand({ stateMachineArn: service.stateMachineArn("echo"), input }),
      );
      const done = await service.waitForExecution(executionArn);
      expect(done.status).toBe("SUCCEEDED");
      expect(JSON.parse(done.output ?? "")).toEqual(JSON.parse(input));
    }
  });

  it("answers bad requests with the AWS error names", async () => {
    await expect(start("slow", {}, "has space")).rejects.toMatchObject({ name: "InvalidName" });
    await expect(start("slow", {}, "x".repeat(81))).rejects.toMatchObject({ name: "InvalidName" });
    await expect(start("slow", {}, "a:b")).rejects.toMatchObject({ name: "InvalidName" });
    await expect(
      client.send(
        new StartExecutionCommand({ stateMachineArn: service.stateMachineArn("slow"), input: "{not json" }),
      ),
    ).rejects.toMatchObject({ name: "InvalidExecutionInput" });
    await expect(start("missing", {})).rejects.toMatchObject({ name: "StateMachineDoesNotExist" });
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: "not-an-arn" })),
    ).rejects.toMatchObject({ name: "InvalidArn" });
    await expect(
      client.send(
        new DescribeExecutionCommand({
          executionArn: "arn:aws:states:us-east-1:000000000000:execution:slow:nope",
        }),
      ),
    ).rejects.toMatchObject({ name: "ExecutionDoesNotExist" });
    await expect(client.send(new DescribeExecutionCommand({ executionArn: "bad" }))).rejects.toMatchObject({
      name: "InvalidArn",
    });
    await expect(client.send(new ListExecutionsCommand({}))).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(
      client.send(
        new ListExecutionsCommand({
          stateMachineArn: service.stateMachineArn("happy"),
          nextToken: "garbage",
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidToken" });
  });
});

describe("stopping and timing out", () => {
  it("StopExecution aborts a running execution and records error and cause", async () => {
    hold = deferred();
    const { executionArn = "" } = await start("slow", {}, "stop-me");
    await until(() => invocations.some((c) => c.executionArn === executionArn));
    const { stopDate } = await client.send(
      new StopExecutionCommand({ executionArn, error: "Operator.Cancelled", cause: "session ended" }),
    );
    expect(stopDate).toBeInstanceOf(Date);
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({
      status: "ABORTED",
      error: "Operator.Cancelled",
      cause: "session ended",
    });
    expect(described.stopDate?.getTime()).toBe(stopDate?.getTime());

    hold.resolve(undefined); // the task finishing late must not add events
    await new Promise((resolve) => setTimeout(resolve, 30));
    const events = await history(executionArn);
    expect(events.at(-1)).toMatchObject({
      type: "ExecutionAborted",
      executionAbortedEventDetails: { error: "Operator.Cancelled", cause: "session ended" },
    });
    expect(types(events)).not.toContain("LambdaFunctionSucceeded");

    // Stopping a closed execution succeeds and changes nothing.
    const again = await client.send(new StopExecutionCommand({ executionArn }));
    expect(again.stopDate?.getTime()).toBe(stopDate?.getTime());
    expect((await client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe("ABORTED");
  });

  it("marks an execution past its TimeoutSeconds as TIMED_OUT", async () => {
    const { executionArn = "" } = await start("timeout", {});
    const done = await service.waitForExecution(executionArn, 5000);
    expect(done.status).toBe("TIMED_OUT");
    expect(done.error).toBe("States.Timeout");
    expect(done.stopDate).toBeInstanceOf(Date);
    expect((await history(executionArn)).at(-1)?.type).toBe("ExecutionTimedOut");
  });
});

describe("read operations", () => {
  let arns: string[] = [];

  beforeAll(async () => {
    arns = [];
    for (const who of ["a", "b", "c"]) {
      const { executionArn = "" } = await start("happy", { who }, `read-${who}`);
      await service.waitForExecution(executionArn);
      arns.push(executionArn);
    }
  });

  it("DescribeExecution returns the AWS shape and hides data with METADATA_ONLY", async () => {
    const executionArn = arns[0] ?? "";
    const full = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(full).toMatchObject({
      executionArn,
      stateMachineArn: service.stateMachineArn("happy"),
      name: "read-a",
      status: "SUCCEEDED",
      input: JSON.stringify({ who: "a" }),
    });
    expect(full.startDate).toBeInstanceOf(Date);
    expect(full.stopDate).toBeInstanceOf(Date);
    expect(JSON.parse(full.output ?? "").result.greeting).toBe("hello a");
    const meta = await client.send(
      new DescribeExecutionCommand({ executionArn, includedData: "METADATA_ONLY" }),
    );
    expect(meta.status).toBe("SUCCEEDED");
    expect(meta.input).toBeUndefined();
    expect(meta.output).toBeUndefined();
  });

  it("ListExecutions lists newest first, filters by status and paginates", async () => {
    const stateMachineArn = service.stateMachineArn("happy");
    const all = await client.send(new ListExecutionsCommand({ stateMachineArn }));
    const names = all.executions?.map((e) => e.name) ?? [];
    expect(names.slice(0, 3)).toEqual(["read-c", "read-b", "read-a"]);
    expect(all.executions?.[0]).toMatchObject({
      status: "SUCCEEDED",
      stateMachineArn,
      executionArn: arns[2],
    });

    const pages: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListExecutionsCommand({ stateMachineArn, maxResults: 1, nextToken }),
      );
      expect(page.executions?.length).toBeLessThanOrEqual(1);
      pages.push(...(page.executions?.map((e) => e.name ?? "") ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(pages).toEqual(names);

    const failed = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: "FAILED" }));
    expect(failed.executions).toEqual([]);
    const retryFailed = await client.send(
      new ListExecutionsCommand({
        stateMachineArn: service.stateMachineArn("retry"),
        statusFilter: "FAILED",
      }),
    );
    expect(retryFailed.executions?.map((e) => e.name)).toEqual(["throttled-forever"]);
  });

  it("GetExecutionHistory supports reverseOrder, includeExecutionData false and pagination", async () => {
    const executionArn = arns[1] ?? "";
    const forward = await history(executionArn);
    expect(forward[0]).toMatchObject({
      id: 1,
      previousEventId: 0,
      type: "ExecutionStarted",
      executionStartedEventDetails: { input: JSON.stringify({ who: "b" }) },
    });
    expect(forward[1]?.stateEnteredEventDetails).toMatchObject({
      name: "Greet",
      input: JSON.stringify({ who: "b" }),
    });

    const reversed = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));
    expect(reversed.events?.map((e) => e.id)).toEqual(forward.map((e) => e.id).reverse());

    const noData = await client.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );
    const entered = noData.events?.find((e) => e.type === "TaskStateEntered");
    expect(entered?.stateEnteredEventDetails?.name).toBe("Greet");
    expect(entered?.stateEnteredEventDetails?.input).toBeUndefined();
    expect(noData.events?.at(-1)?.executionSucceededEventDetails?.output).toBeUndefined();
    expect(noData.events?.[0]?.executionStartedEventDetails?.input).toBeUndefined();

    for (const reverseOrder of [false, true]) {
      const paged: number[] = [];
      let nextToken: string | undefined;
      let calls = 0;
      do {
        const page = await client.send(
          new GetExecutionHistoryCommand({ executionArn, maxResults: 4, nextToken, reverseOrder }),
        );
        calls++;
        paged.push(...(page.events?.map((e) => e.id ?? 0) ?? []));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      expect(calls).toBe(Math.ceil(forward.length / 4));
      const ids = forward.map((e) => e.id ?? 0);
      expect(paged).toEqual(reverseOrder ? ids.reverse() : ids);
    }
  });

  it("ListStateMachines and DescribeStateMachine describe the configured machines", async () => {
    const listed = await client.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines?.map((m) => m.name)).toEqual(machines.map((m) => m.name));
    expect(listed.stateMachines?.[0]).toMatchObject({
      type: "STANDARD",
      stateMachineArn: service.stateMachineArn("happy"),
    });
    const described = await client.send(
      new DescribeStateMachineCommand({ stateMachineArn: service.stateMachineArn("wait") }),
    );
    expect(described).toMatchObject({ name: "wait", status: "ACTIVE", type: "STANDARD" });
    expect(described.roleArn).toMatch(/^arn:aws:iam::000000000000:role\//);
    expect(described.creationDate).toBeInstanceOf(Date);
    // The original definition, not the time-scaled copy the engine runs.
    expect(JSON.parse(described.definition ?? "")).toEqual(
      machines.find((m) => m.name === "wait")?.definition,
    );
  });
});

describe("JSON 1.0 protocol errors", () => {
  const post = (target: string | undefined, body: string) =>
    fetch(`${url}/`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.0",
        ...(target === undefined ? {} : { "X-Amz-Target": target }),
      },
      body,
    });

  it("answers an unknown target with UnknownOperationException", async () => {
    const response = await post("AWSStepFunctions.CreateActivity", "{}");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: "UnknownOperationException" });
  });

  it("answers malformed JSON with SerializationException", async () => {
    const response = await post("AWSStepFunctions.ListStateMachines", "{oops");
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(await response.json()).toMatchObject({ __type: "SerializationException" });
  });

  it("answers a member of the wrong type with ValidationException", async () => {
    const response = await post("AWSStepFunctions.DescribeExecution", JSON.stringify({ executionArn: 42 }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { __type: string; message: string };
    expect(body.__type).toBe("ValidationException");
    expect(body.message).toContain("executionArn");
  });
});
