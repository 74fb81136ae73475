import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSfnService, type SfnService, type TaskInvoker } from "#local/sfn/index.ts";
import { lambdaArn, sfnClient, until } from "./helpers.ts";

// Callback tasks (`.waitForTaskToken`) over the SFN API, with the real SDK client.
// timeScale 0.01: HeartbeatSeconds 20 is 200 ms, TimeoutSeconds 30 is 300 ms.

const CALLBACK_RESOURCE = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** The token each execution's callback task was invoked with, by execution ARN. */
const tokens = new Map<string, string>();
/** Set by a test to make the invoked Lambda report back itself before it returns. */
let answerDuringInvoke: ((token: string) => Promise<void>) | undefined;

const invokeTask: TaskInvoker = async (request) => {
  const payload = request.input as { token?: unknown };
  if (typeof payload.token !== "string") throw new Error("no task token in the payload");
  tokens.set(request.executionArn, payload.token);
  if (answerDuringInvoke !== undefined) await answerDuringInvoke(payload.token);
  return { queued: true };
};

function callbackTask(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    Type: "Task",
    Resource: CALLBACK_RESOURCE,
    Parameters: {
      FunctionName: lambdaArn("notify"),
      Payload: { "token.$": "$$.Task.Token", "channel.$": "$.channel" },
    },
    ...extra,
  };
}

const machines = [
  {
    name: "callback",
    definition: {
      StartAt: "Wait For Channel Event",
      States: {
        "Wait For Channel Event": callbackTask({
          TimeoutSeconds: 3600,
          ResultPath: "$.event",
          Catch: [{ ErrorEquals: ["Channel.Failed"], ResultPath: "$.error", Next: "Handle Failure" }],
          Next: "Done",
        }),
        "Handle Failure": { Type: "Pass", End: true },
        Done: { Type: "Pass", End: true },
      },
    },
  },
  {
    name: "callback-retry",
    definition: {
      StartAt: "Wait For Channel Event",
      States: {
        "Wait For Channel Event": callbackTask({
          TimeoutSeconds: 3600,
          Retry: [{ ErrorEquals: ["Channel.Busy"], IntervalSeconds: 1, MaxAttempts: 1 }],
          End: true,
        }),
      },
    },
  },
  {
    name: "callback-timeout",
    definition: {
      StartAt: "Wait For Channel Event",
      States: { "Wait For Channel Event": callbackTask({ TimeoutSeconds: 30, End: true }) },
    },
  },
  {
    name: "callback-heartbeat",
    definition: {
      StartAt: "Wait For Channel Event",
      States: {
        "Wait For Channel Event": callbackTask({ TimeoutSeconds: 3600, HeartbeatSeconds: 20, End: true }),
      },
    },
  },
];

let service: SfnService;
let client: SFNClient;

beforeAll(async () => {
  service = createSfnService({ machines, invokeTask, timeScale: 0.01 });
  const { url } = await service.listen();
  client = sfnClient(url);
});

afterAll(async () => {
  client?.destroy();
  await service?.close();
});

async function start(machine: string, input: unknown = { channel: "ch-1" }): Promise<string> {
  const { executionArn } = await client.send(
    new StartExecutionCommand({
      stateMachineArn: service.stateMachineArn(machine),
      input: JSON.stringify(input),
    }),
  );
  if (executionArn === undefined) throw new Error("no executionArn");
  return executionArn;
}

/** The token the execution's callback task was given, once its Lambda was invoked. */
async function tokenOf(executionArn: string): Promise<string> {
  await until(() => tokens.has(executionArn));
  return tokens.get(executionArn) ?? "";
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
  return events ?? [];
}

async function historyTypes(executionArn: string): Promise<string[]> {
  return (await history(executionArn)).map((event) => event.type ?? "");
}

async function errorName(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
  return "no error";
}

describe("callback tasks (.waitForTaskToken)", () => {
  it("SendTaskSuccess: the task's result is the output sent, and the execution goes on", async () => {
    // Prepare
    const executionArn = await start("callback");
    const token = await tokenOf(executionArn);

    // Act
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"state":"RUNNING"}' }));
    const done = await service.waitForExecution(executionArn);

    // Assess
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ channel: "ch-1", event: { state: "RUNNING" } });
    expect(await historyTypes(executionArn)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskSucceeded",
      "TaskStateExited",
      "PassStateEntered",
      "PassStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("records AWS-shaped task events: the token in the parameters, the Lambda's answer as TaskSubmitted", async () => {
    // Prepare
    const executionArn = await start("callback-heartbeat");
    const token = await tokenOf(executionArn);

    // Act
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"ok"' }));
    await service.waitForExecution(executionArn);

    // Assess
    const events = await history(executionArn);
    const scheduled = events.find((event) => event.type === "TaskScheduled")?.taskScheduledEventDetails;
    expect(scheduled).toMatchObject({
      resourceType: "lambda",
      resource: "invoke.waitForTaskToken",
      region: "us-east-1",
      timeoutInSeconds: 3600,
      heartbeatInSeconds: 20,
    });
    expect(JSON.parse(scheduled?.parameters ?? "")).toEqual({
      FunctionName: lambdaArn("notify"),
      Payload: { token, channel: "ch-1" },
    });
    const submitted = events.find((event) => event.type === "TaskSubmitted")?.taskSubmittedEventDetails;
    expect(submitted?.resource).toBe("invoke.waitForTaskToken");
    expect(JSON.parse(submitted?.output ?? "")).toMatchObject({ Payload: { queued: true }, StatusCode: 200 });
    const succeeded = events.find((event) => event.type === "TaskSucceeded")?.taskSucceededEventDetails;
    expect(succeeded?.output).toBe('"ok"');
  });

  it("a callback that arrives before the Lambda returns is kept", async () => {
    // Prepare
    answerDuringInvoke = async (taskToken) => {
      await client.send(new SendTaskSuccessCommand({ taskToken, output: '{"early":true}' }));
    };
    try {
      // Act
      const executionArn = await start("callback");
      const done = await service.waitForExecution(executionArn);

      // Assess
      expect(done.status).toBe("SUCCEEDED");
      expect(JSON.parse(done.output ?? "")).toMatchObject({ event: { early: true } });
      expect(await historyTypes(executionArn)).toContain("TaskSubmitted");
    } finally {
      answerDuringInvoke = undefined;
    }
  });

  it("SendTaskFailure fails the task with the given error, which the state's Catch handles", async () => {
    // Prepare
    const executionArn = await start("callback");
    const token = await tokenOf(executionArn);

    // Act
    await client.send(
      new SendTaskFailureCommand({ taskToken: token, error: "Channel.Failed", cause: "input loss" }),
    );
    const done = await service.waitForExecution(executionArn);

    // Assess
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({
      channel: "ch-1",
      error: { Error: "Channel.Failed", Cause: "input loss" },
    });
    const events = await history(executionArn);
    expect(events.map((event) => event.type)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskFailed",
      "TaskStateExited",
      "PassStateEntered",
      "PassStateExited",
      "ExecutionSucceeded",
    ]);
    expect(events.find((event) => event.type === "TaskFailed")?.taskFailedEventDetails).toMatchObject({
      resourceType: "lambda",
      resource: "invoke.waitForTaskToken",
      error: "Channel.Failed",
      cause: "input loss",
    });
  });

  it("a retried callback task gets a new token; the old one is TaskDoesNotExist", async () => {
    // Prepare
    const executionArn = await start("callback-retry");
    const first = await tokenOf(executionArn);

    // Act
    await client.send(
      new SendTaskFailureCommand({ taskToken: first, error: "Channel.Busy", cause: "later" }),
    );
    await until(() => tokens.get(executionArn) !== first);
    const second = await tokenOf(executionArn);
    const stale = await errorName(() =>
      client.send(new SendTaskSuccessCommand({ taskToken: first, output: "{}" })),
    );
    await client.send(new SendTaskSuccessCommand({ taskToken: second, output: '{"attempt":2}' }));
    const done = await service.waitForExecution(executionArn);

    // Assess
    expect(stale).toBe("TaskDoesNotExist");
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ attempt: 2 });
    expect(await historyTypes(executionArn)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskFailed",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskSucceeded",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("TimeoutSeconds (time-scaled) without a callback fails the task with States.Timeout", async () => {
    // Prepare
    const executionArn = await start("callback-timeout");
    const token = await tokenOf(executionArn);

    // Act
    const done = await service.waitForExecution(executionArn);

    // Assess
    expect(done.status).toBe("FAILED");
    expect(done.error).toBe("States.Timeout");
    expect(await historyTypes(executionArn)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskTimedOut",
      "ExecutionFailed",
    ]);
    // The task timed out: a late SendTaskSuccess on its token is TaskTimedOut, as in AWS.
    expect(
      await errorName(() => client.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }))),
    ).toBe("TaskTimedOut");
  });

  it("HeartbeatSeconds (time-scaled) without SendTaskHeartbeat fails the task with States.HeartbeatTimeout", async () => {
    // Prepare
    const executionArn = await start("callback-heartbeat");
    const token = await tokenOf(executionArn);

    // Act
    const done = await service.waitForExecution(executionArn);

    // Assess
    expect(done.status).toBe("FAILED");
    expect(done.error).toBe("States.HeartbeatTimeout");
    const events = await history(executionArn);
    expect(events.map((event) => event.type)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskTimedOut",
      "ExecutionFailed",
    ]);
    expect(events.find((event) => event.type === "TaskTimedOut")?.taskTimedOutEventDetails?.error).toBe(
      "States.HeartbeatTimeout",
    );
    expect(await errorName(() => client.send(new SendTaskHeartbeatCommand({ taskToken: token })))).toBe(
      "TaskTimedOut",
    );
  });

  it("SendTaskHeartbeat keeps the task alive past HeartbeatSeconds", async () => {
    // Prepare
    const executionArn = await start("callback-heartbeat");
    const token = await tokenOf(executionArn);

    // Act: 600 ms of heartbeats every 100 ms, three times the 200 ms heartbeat window.
    for (let beat = 0; beat < 6; beat++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"alive":true}' }));
    const done = await service.waitForExecution(executionArn);

    // Assess
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ alive: true });
  });

  it("a token used twice is TaskDoesNotExist; garbage is InvalidToken; non-JSON output is InvalidOutput", async () => {
    // Prepare
    const executionArn = await start("callback");
    const token = await tokenOf(executionArn);

    // Act & Assess
    expect(
      await errorName(() =>
        client.send(new SendTaskSuccessCommand({ taskToken: token, output: "not json" })),
      ),
    ).toBe("InvalidOutput");
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }));
    expect(
      await errorName(() => client.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }))),
    ).toBe("TaskDoesNotExist");
    expect(await errorName(() => client.send(new SendTaskFailureCommand({ taskToken: token })))).toBe(
      "TaskDoesNotExist",
    );
    expect(await errorName(() => client.send(new SendTaskHeartbeatCommand({ taskToken: token })))).toBe(
      "TaskDoesNotExist",
    );
    expect(
      await errorName(() => client.send(new SendTaskSuccessCommand({ taskToken: "garbage", output: "{}" }))),
    ).toBe("InvalidToken");
    expect(await errorName(() => client.send(new SendTaskHeartbeatCommand({ taskToken: "garbage" })))).toBe(
      "InvalidToken",
    );
    expect((await service.waitForExecution(executionArn)).status).toBe("SUCCEEDED");
  });

  it("a stopped execution's token is TaskDoesNotExist", async () => {
    // Prepare
    const executionArn = await start("callback");
    const token = await tokenOf(executionArn);

    // Act
    await client.send(new StopExecutionCommand({ executionArn }));

    // Assess
    const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(status).toBe("ABORTED");
    expect(
      await errorName(() => client.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }))),
    ).toBe("TaskDoesNotExist");
    expect(await historyTypes(executionArn)).not.toContain("TaskSucceeded");
  });
});
