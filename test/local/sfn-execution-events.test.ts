import { StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { executionLine } from "#local/runtime.ts";
import {
  createSfnService,
  type ExecutionEvent,
  type SfnService,
  type TaskInvoker,
} from "#local/sfn/index.ts";
import { deferred, lambdaArn, namedError, sfnClient } from "#test/sfn/helpers.ts";

const attempts = new Map<string, number>();
let hold = deferred();

const invokeTask: TaskInvoker = async ({ stateName, executionArn, input }) => {
  const n = (attempts.get(`${executionArn}/${stateName}`) ?? 0) + 1;
  attempts.set(`${executionArn}/${stateName}`, n);
  switch (stateName) {
    case "Flaky":
      // Fails with the execution's final error once, then is retried: never the state to blame.
      if (n === 1) throw namedError("QuotaExceeded", "retried away");
      return {};
    case "Start Channel":
      if ((input as { fail?: boolean }).fail)
        throw namedError("QuotaExceeded", "the account's quota is reached");
      return {};
    case "Hold":
      await hold.promise;
      return {};
    default:
      return {};
  }
};

const task = (name: string, next: string | undefined, extra: Record<string, unknown> = {}) => ({
  Type: "Task",
  Resource: lambdaArn(name.toLowerCase().replaceAll(" ", "-")),
  ResultPath: null,
  ...(next ? { Next: next } : { End: true }),
  ...extra,
});

// The shape of go-live: a Parallel whose Catch cleans up and then fails with the caught error.
const machines = [
  {
    name: "like-go-live",
    definition: {
      StartAt: "Bring Up",
      States: {
        "Bring Up": {
          Type: "Parallel",
          Branches: [
            {
              StartAt: "Flaky",
              States: {
                Flaky: task("Flaky", "Start Channel", {
                  Retry: [{ ErrorEquals: ["QuotaExceeded"], IntervalSeconds: 1, MaxAttempts: 1 }],
                }),
                "Start Channel": task("Start Channel", undefined),
              },
            },
          ],
          ResultPath: null,
          Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Clean Up" }],
          Next: "Done",
        },
        "Clean Up": task("Clean Up", "Go Live Failed"),
        "Go Live Failed": { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
        Done: { Type: "Succeed" },
      },
    },
  },
  { name: "holds", definition: { StartAt: "Hold", States: { Hold: task("Hold", undefined) } } },
];

let service: SfnService;
const events: ExecutionEvent[] = [];
let unsubscribe: () => void;

beforeAll(async () => {
  service = createSfnService({ machines, invokeTask, timeScale: 0.001 });
  unsubscribe = service.onExecution((e) => events.push(e));
});
afterAll(async () => {
  unsubscribe();
  hold.resolve(undefined);
  await service.close();
});

async function start(machine: string, name: string, input: Record<string, unknown> = {}) {
  const { url } = await listening();
  const res = await sfnClient(url).send(
    new StartExecutionCommand({
      stateMachineArn: service.stateMachineArn(machine),
      name,
      input: JSON.stringify(input),
    }),
  );
  return res.executionArn ?? "";
}
let address: Promise<{ url: string }> | undefined;
const listening = () => {
  address ??= service.listen(0);
  return address;
};

const eventsOf = (name: string) => events.filter((e) => e.name === name);

describe("local Step Functions: execution listeners", () => {
  it("tells of a start at once and of a success when it closes, with the machine and dates", async () => {
    const arn = await start("like-go-live", "ok-1");
    expect(eventsOf("ok-1")).toEqual([
      expect.objectContaining({ type: "started", executionArn: arn, stateMachineName: "like-go-live" }),
    ]);

    await service.waitForExecution(arn);

    const [started, closed] = eventsOf("ok-1");
    expect(closed).toMatchObject({ type: "closed", status: "SUCCEEDED", executionArn: arn });
    expect(closed?.type === "closed" && closed.stopDate).toBeGreaterThanOrEqual(started?.startDate ?? 0);
    expect(closed).not.toHaveProperty("state");
  });

  it("traces a failure to the state that failed, not the Parallel, the retried state or the Fail state", async () => {
    const arn = await start("like-go-live", "fail-1", { fail: true });
    await service.waitForExecution(arn);

    const closed = eventsOf("fail-1").find((e) => e.type === "closed");
    expect(closed).toMatchObject({
      status: "FAILED",
      error: "QuotaExceeded",
      cause: "the account's quota is reached",
      state: "Start Channel",
    });
    expect(executionLine(closed as ExecutionEvent)).toMatch(
      /^\d\d:\d\d:\d\d fail-1 FAILED in \d+\.\d s at "Start Channel": QuotaExceeded$/,
    );
  });

  it("tells of a stopped execution with the state it was in", async () => {
    hold = deferred();
    const arn = await start("holds", "stopped-1");
    const { url } = await listening();
    await new Promise((r) => setTimeout(r, 50));
    await sfnClient(url).send(new StopExecutionCommand({ executionArn: arn, error: "Test.Stop" }));

    const closed = eventsOf("stopped-1").find((e) => e.type === "closed");
    expect(closed).toMatchObject({ status: "ABORTED", error: "Test.Stop", state: "Hold" });
    expect(executionLine(closed as ExecutionEvent)).toMatch(
      / stopped-1 ABORTED in \d+\.\d s at "Hold": Test.Stop$/,
    );
  });

  it("keeps running executions when a listener throws, and stops telling after unsubscribe", async () => {
    const seen: string[] = [];
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const off = service.onExecution((e) => {
      seen.push(e.name);
      throw new Error("listener bug");
    });
    const arn = await start("like-go-live", "ok-2");
    expect((await service.waitForExecution(arn)).status).toBe("SUCCEEDED");
    expect(seen).toEqual(["ok-2", "ok-2"]);
    expect(logged).toHaveBeenCalledWith("[local-sfn] an execution listener failed:", expect.any(Error));
    logged.mockRestore();

    off();
    await service.waitForExecution(await start("like-go-live", "ok-3"));
    expect(seen).toEqual(["ok-2", "ok-2"]);
  });

  it("formats the start and success lines at the event's own time", () => {
    const startDate = new Date(2025, 0, 1, 12, 3, 4).getTime();
    const base = { executionArn: "arn", name: "go-live-abc-1", stateMachineName: "go-live", startDate };
    expect(executionLine({ type: "started", ...base })).toBe("12:03:04 go-live-abc-1 started");
    expect(
      executionLine({ type: "closed", ...base, status: "SUCCEEDED", stopDate: startDate + 41_230 }),
    ).toBe("12:03:45 go-live-abc-1 succeeded in 41.2 s");
    expect(
      executionLine({
        type: "closed",
        ...base,
        status: "TIMED_OUT",
        stopDate: startDate + 60_000,
        error: "States.Timeout",
        state: "Wait For Channel Running: Pause",
      }),
    ).toBe('12:04:04 go-live-abc-1 TIMED OUT in 60.0 s at "Wait For Channel Running: Pause": States.Timeout');
  });
});
