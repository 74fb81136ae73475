import { expect } from "vitest";
import type { useLocalRuntime } from "./harness.ts";

/** How the reconcile workflow tests start runs and read their reports. */
export const ADMIN = { user: "ops", admin: true } as const;

export interface Finding {
  findingId: string;
  class: string;
  resource: { type: string; id: string };
  reason: string;
  repair: { action: string } & Record<string, unknown>;
  action: string;
  costPerHourUsd: number;
  error?: string;
}
export interface Run {
  runId: string;
  executionArn: string;
  startedAt: string;
  finishedAt: string;
  status: string;
  dryRun: boolean;
  note?: string;
  counts: Record<string, number>;
  findings: Finding[];
  savedPerHourUsd: number;
}

/** Past the grace period (300 s at the test time scale: 0.6 s): a finding seen before now may be repaired. */
export const pastGrace = () => new Promise((r) => setTimeout(r, 700));
export const about = (run: Run, id: string) => run.findings.filter((f) => f.resource.id === id);

export function reconcileRuns(t: ReturnType<typeof useLocalRuntime>) {
  async function startRun(dryRun = false): Promise<{ runId: string; executionArn: string }> {
    const res = await t.api("POST", "/admin/reconcile", { ...ADMIN, body: { dryRun } });
    if (res.status !== 202) throw new Error(`reconcile: ${res.status} ${JSON.stringify(res.body)}`);
    expect(res.body).toMatchObject({ dryRun, runId: expect.any(String), executionArn: expect.any(String) });
    return { runId: res.body.runId, executionArn: res.body.executionArn };
  }

  async function report(runId: string): Promise<Run> {
    const res = await t.api("GET", `/admin/reconcile/runs/${runId}`, ADMIN);
    if (res.status !== 200) throw new Error(`run ${runId}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Run;
  }

  /** One run, waited for: it succeeded and its report says so. */
  async function reconcile(dryRun = false): Promise<Run> {
    const { runId, executionArn } = await startRun(dryRun);
    expect((await t.waitFor(executionArn)).status).toBe("SUCCEEDED");
    const run = await report(runId);
    expect(run).toMatchObject({ status: "succeeded", dryRun });
    return run;
  }

  /** Real runs (each repairs what a run a grace period older saw too) until `done`; every run is returned. */
  async function reconcileUntil(done: (run: Run) => Promise<boolean> | boolean, runs = 12): Promise<Run[]> {
    const seen: Run[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await reconcile();
      seen.push(run);
      if (await done(run)) return seen;
      await pastGrace();
    }
    throw new Error(`reconcile did not converge: ${JSON.stringify(seen.at(-1)?.findings)}`);
  }

  return { startRun, report, reconcile, reconcileUntil };
}
