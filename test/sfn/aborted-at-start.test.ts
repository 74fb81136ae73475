import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, describe, expect, it } from "vitest";
import { createSfnService, LOCAL_RUNTIME_RESTARTED_ERROR, type TaskInvoker } from "#local/sfn/index.ts";
import { lambdaArn, sfnClient, until } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "castflow-sfn-aborted-"));
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
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as {
      executions: Array<{ name: string; status: string }>;
    };
    return Object.fromEntries(saved.executions.map((e) => [e.name, e.status]));
  } catch {
    return {};
  }
}

describe("abortedAtStart", () => {
  it("is empty without a state file", async () => {
    const service = createSfnService({ machines, invokeTask });
    expect(service.abortedAtStart).toEqual([]);
    await service.close();
  });

  it("lists the executions found RUNNING in the state file, once, with a castflow error", async () => {
    const statePath = join(dir, "sfn.json");
    const first = createSfnService({ machines, invokeTask, statePath });
    const client = sfnClient((await first.listen()).url);
    const stateMachineArn = first.stateMachineArn("steps");
    const heldInput = JSON.stringify({ hold: true, sessionId: "s-1" });
    const held = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: "held", input: heldInput }),
    );
    const done = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: "done", input: JSON.stringify({ hold: false }) }),
    );
    await first.waitForExecution(done.executionArn ?? "");
    await until(() => {
      const statuses = savedStatuses(statePath);
      return statuses.held === "RUNNING" && statuses.done === "SUCCEEDED";
    });
    // What a crash leaves behind, twice: one copy for a restart with the machine, one without.
    const crashedPath = join(dir, "crashed.json");
    const orphanPath = join(dir, "orphan.json");
    copyFileSync(statePath, crashedPath);
    copyFileSync(statePath, orphanPath);
    client.destroy();
    await first.close();
    // A clean close aborts what runs and leaves it for the next start to settle, once.
    expect(first.abortedAtStart).toEqual([]);
    expect(savedStatuses(statePath).held).toBe("ABORTED");
    const afterCleanClose = createSfnService({ machines, invokeTask, statePath });
    expect(afterCleanClose.abortedAtStart.map((e) => e.name)).toEqual(["held"]);
    await afterCleanClose.close();
    const startedAgain = createSfnService({ machines, invokeTask, statePath });
    expect(startedAgain.abortedAtStart).toEqual([]);
    await afterCleanClose.close();

    const second = createSfnService({ machines, invokeTask, statePath: crashedPath });
    const expected = {
      executionArn: held.executionArn,
      name: "held",
      stateMachineArn,
      stateMachineName: "steps",
      input: heldInput,
    };
    expect(second.abortedAtStart).toEqual([expected]);
    expect(Object.isFrozen(second.abortedAtStart)).toBe(true);
    expect(Object.isFrozen(second.abortedAtStart[0])).toBe(true);

    const client2 = sfnClient((await second.listen()).url);
    try {
      const described = await client2.send(new DescribeExecutionCommand({ executionArn: held.executionArn }));
      expect(described.status).toBe("ABORTED");
      // Not an AWS error name: the local runtime's own, with a cause that says what happened.
      expect(described.error).toBe(LOCAL_RUNTIME_RESTARTED_ERROR);
      expect(described.error).toMatch(/^castflow\./);
      expect(described.cause).toMatch(
        /local Step Functions runtime stopped while this execution was running/,
      );
      const { events = [] } = await client2.send(
        new GetExecutionHistoryCommand({
          executionArn: held.executionArn,
          reverseOrder: true,
          maxResults: 1,
        }),
      );
      expect(events[0]?.executionAbortedEventDetails).toEqual({
        error: LOCAL_RUNTIME_RESTARTED_ERROR,
        cause: described.cause,
      });
    } finally {
      client2.destroy();
      await second.close();
    }
    // Settled once: the next start finds it ABORTED, not RUNNING.
    const third = createSfnService({ machines, invokeTask, statePath: crashedPath });
    expect(third.abortedAtStart).toEqual([]);
    await third.close();

    // Executions of a machine no longer configured are reported too.
    const orphans = createSfnService({ machines: [], invokeTask, statePath: orphanPath });
    expect(orphans.abortedAtStart).toEqual([expected]);
    await orphans.close();
  });
});
