import { describe, expect, it } from "vitest";
import { eventually, useLocalRuntime } from "./harness.ts";

// The local runtime runs scheduled lifecycles as EventBridge Scheduler does: reconcile every
// minute here (at the test time scale, the runtime's floor of one run a second).
const t = useLocalRuntime({ schedules: { reconcile: 1 } });

describe("local schedules", () => {
  it("starts reconcile runs on its own, each with a fresh run id", async () => {
    let runs: { runId: string; dryRun: boolean }[] = [];
    await eventually(async () => {
      runs = (await t.api("GET", "/admin/reconcile/runs", { user: "ops", admin: true })).body.runs;
      return runs.length >= 2;
    }, 10_000);
    expect(new Set(runs.map((r) => r.runId)).size).toBe(runs.length);
    expect(runs.every((r) => r.dryRun === false)).toBe(true);
  });
});
