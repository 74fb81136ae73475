import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, describe, expect, it } from "vitest";
import {
  createSfnService,
  LOCAL_RUNTIME_RESTARTED_ERROR,
  LOCAL_RUNTIME_STOPPED_ERROR,
  type TaskInvoker,
} from "#local/sfn/index.ts";
import { lambdaArn, sfnClient, until } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "castflow-sfn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const machines = [
  {
    name: "steps",
    definition: {
      StartAt: "Choose",
      States: {
        Choose: {
          Type: "Choice",
          Choices: [{ Variable: "$.hold", BooleanEquals: true, Next: "Hold" }],
          Default: "Quick",
        },
        Hold: { Type: "Task", Resource: lambdaArn("hold"), End: true },
        Quick: { Type: "Task", Resource: lambdaArn("quick"), End: true },
      },
    },
  },
];

const invokeTask: TaskInvoker = async ({ stateName }) =>
  stateName === "Hold" ? new Promise(() => {}) : { quick: true };

function savedStatuses(path: string): Record<string, string> {
  const saved = JSON.parse(readFileSync(path, "utf8")) as {
    executions: Array<{ name: string; status: string }>;
  };
  return Object.fromEntries(saved.executions.map((e) => [e.name, e.status]));
}

describe("statePath persistence", () => {
  it("keeps closed executions and aborts the ones that were running when the process ended", async () => {
    const statePath = join(dir, "nested", "sfn.json");
    const first = createSfnService({ machines, invokeTask, statePath });
    const { url } = await first.listen();
    const client = sfnClient(url);
    const stateMachineArn = first.stateMachineArn("steps");
    const done = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: "done", input: JSON.stringify({ hold: false }) }),
    );
    await first.waitForExecution(done.executionArn ?? "");
    const running = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: "running", input: JSON.stringify({ hold: true }) }),
    );
    // Debounced save: wait until the file shows both executions.
    await until(() => {
      try {
        const statuses = savedStatuses(statePath);
        return statuses.done === "SUCCEEDED" && statuses.running === "RUNNING";
      } catch {
        return false;
      }
    });
    // What a crash would leave behind: a file with a RUNNING execution.
    const crashedPath = join(dir, "crashed.json");
    copyFileSync(statePath, crashedPath);
    client.destroy();
    await first.close();
    // A clean close records its own abort reason.
    expect(savedStatuses(statePath).running).toBe("ABORTED");

    const second = createSfnService({ machines, invokeTask, statePath: crashedPath });
    const restarted = await second.listen();
    const client2 = sfnClient(restarted.url);
    try {
      const aborted = await client2.send(
        new DescribeExecutionCommand({ executionArn: running.executionArn }),
      );
      expect(aborted).toMatchObject({ status: "ABORTED", error: LOCAL_RUNTIME_RESTARTED_ERROR });
      expect(aborted.cause).toMatch(/restarted/);
      expect(aborted.stopDate).toBeInstanceOf(Date);
      const abortedHistory = await client2.send(
        new GetExecutionHistoryCommand({ executionArn: running.executionArn }),
      );
      expect(abortedHistory.events?.map((e) => e.type)).toEqual([
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "ExecutionAborted",
      ]);

      const listed = await client2.send(new ListExecutionsCommand({ stateMachineArn }));
      expect(listed.executions?.map((e) => [e.name, e.status])).toEqual([
        ["running", "ABORTED"],
        ["done", "SUCCEEDED"],
      ]);
      const doneDescribed = await client2.send(
        new DescribeExecutionCommand({ executionArn: done.executionArn }),
      );
      expect(JSON.parse(doneDescribed.output ?? "")).toEqual({ quick: true });

      // Names stay taken across restarts, as in AWS.
      await expect(
        client2.send(new StartExecutionCommand({ stateMachineArn, name: "done", input: "{}" })),
      ).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });
      // New executions continue after the loaded ones (newest first).
      await client2.send(
        new StartExecutionCommand({ stateMachineArn, name: "after", input: JSON.stringify({ hold: false }) }),
      );
      const relisted = await client2.send(new ListExecutionsCommand({ stateMachineArn }));
      expect(relisted.executions?.[0]?.name).toBe("after");
    } finally {
      client2.destroy();
      await second.close();
    }
    expect(savedStatuses(crashedPath)).toMatchObject({ running: "ABORTED", done: "SUCCEEDED" });
    const reloaded = JSON.parse(readFileSync(statePath, "utf8")) as {
      executions: Array<{ name: string; error?: string }>;
    };
    expect(reloaded.executions.find((e) => e.name === "running")?.error).toBe(LOCAL_RUNTIME_STOPPED_ERROR);
  });

  it("refuses a corrupt state file instead of starting empty", () => {
    const path = join(dir, "corrupt.json");
    copyFileSync(new URL(import.meta.url), path);
    expect(() => createSfnService({ machines, invokeTask, statePath: path })).toThrow(/Cannot load/);
  });
});
