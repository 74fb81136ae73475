import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import * as z from "zod";
import { getRun, newRun, putRun, RepairOutcome, RunIdentity, updateRun } from "#lib/reconcile/store.ts";
import { defineTask } from "#tasks/define.ts";

/**
 * One run's figures as CloudWatch metrics (embedded metric format in the function's log; namespace
 * from POWERTOOLS_METRICS_NAMESPACE, which the stack sets per stage): the stack alarms when a run
 * finds something castflow may not repair, or repairs more than its threshold.
 */
function publishRunMetrics(figures: {
  found: number;
  repaired: number;
  failed: number;
  unrepairable: number;
}) {
  const metrics = new Metrics({ serviceName: "reconcile" });
  metrics.addMetric("ReconcileFindings", MetricUnit.Count, figures.found);
  metrics.addMetric("ReconcileRepaired", MetricUnit.Count, figures.repaired);
  metrics.addMetric("ReconcileRepairsFailed", MetricUnit.Count, figures.failed);
  metrics.addMetric("ReconcileUnrepairable", MetricUnit.Count, figures.unrepairable);
  metrics.publishStoredMetrics();
}

/**
 * reconcile's last step: the outcome of each repair goes onto its finding, the money per hour the
 * repairs saved is summed, and the run is marked succeeded (or failed, with the error's name, when
 * a step before failed).
 */
export const task = defineTask({
  name: "write-report",
  entry: import.meta.url,
  input: RunIdentity.extend({
    outcomes: z.array(RepairOutcome).default([]),
    error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
  }),
  table: "write",
  run: async ({ runId, dryRun, executionArn, startedAt, outcomes, error }) => {
    let run = await getRun(runId);
    if (!run) {
      // The run failed before its inventory wrote the report: it still gets one.
      run = newRun({ runId, executionArn, dryRun, startedAt });
      await putRun(run);
    }
    const byId = new Map(outcomes.map((o) => [o.findingId, o]));
    // Every finding counted, the ones past the report's cap included.
    const total = Object.values(run.counts).reduce((a, n) => a + n, 0);
    const findings = run.findings.map((f) => {
      const o = byId.get(f.findingId);
      return o ? { ...f, action: o.outcome, ...(o.error ? { error: o.error } : {}) } : f;
    });
    const saved = findings
      .filter((f) => f.action === "repaired")
      .reduce((sum, f) => sum + f.costPerHourUsd, 0);
    const status = error ? ("failed" as const) : ("succeeded" as const);
    await updateRun(runId, {
      findings,
      status,
      finishedAt: new Date().toISOString(),
      savedPerHourUsd: Math.round(saved * 100) / 100,
      // The step that failed, by name only: AWS's messages are not echoed into reports.
      ...(error ? { error: { code: error.Error, message: `The run failed at a step: ${error.Error}` } } : {}),
    });
    publishRunMetrics({
      found: total,
      repaired: findings.filter((f) => f.action === "repaired").length,
      failed: findings.filter((f) => f.action === "failed").length,
      unrepairable: findings.filter((f) => f.action === "none").length,
    });
    return { status, found: total };
  },
});

export const handler = task.handler;
