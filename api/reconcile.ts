import { randomBytes } from "node:crypto";
import * as z from "zod";
import { config } from "#lib/config.ts";
import { listDestinations, listSources } from "#lib/destinations/store.ts";
import { costReport } from "#lib/reconcile/cost.ts";
import { getRun, listRuns, type ReconcileRun } from "#lib/reconcile/store.ts";
import { scanSessions } from "#lib/sessions/store.ts";
import { USAGE_WINDOW_DAYS } from "#lib/usage.ts";
import { reconcile } from "#state-machines/operations/reconcile/lifecycle.ts";
import { startLifecycle } from "./executions.ts";
import { fieldError, notFound } from "./http.ts";

export const ReconcileBody = z.strictObject({
  dryRun: z.boolean({ error: "must be true or false" }).optional(),
});

/** `r-20261130T220501Z-1a2b3c`: sorts by time, unique, and fits an execution name. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  return `r-${stamp}-${randomBytes(3).toString("hex")}`;
}

/** POST /admin/reconcile: starts a run now (the schedule starts the others) -> 202 `{runId, executionArn}`. */
export async function startReconcile(body: z.infer<typeof ReconcileBody>) {
  const runId = newRunId();
  // A deployment that is dry-run only reports, whatever the request says.
  const dryRun = (body.dryRun ?? false) || config().RECONCILE_DRY_RUN_ONLY;
  const started = await startLifecycle(reconcile, 1, () => ({ runId, dryRun }));
  return {
    runId,
    dryRun,
    executionArn: started.executionArn,
    startDate: started.startDate,
    report: `/admin/reconcile/runs/${runId}`,
  };
}

/** What GET /admin/reconcile/runs shows of a run: its counts and outcome, not every finding. */
const summary = ({ findings, version: _v, expiresAt: _e, ...run }: ReconcileRun) => ({
  ...run,
  found: Object.values(run.counts).reduce((a, n) => a + n, 0),
  repaired: findings.filter((f) => f.action === "repaired").length,
});

/**
 * GET /admin/reconcile/runs?limit=N&nextToken=T: the newest runs first, `limit` (1-100, default
 * 50) a page, and `nextToken` while older runs remain.
 */
export async function listReconcileRuns(query: Record<string, string | undefined>) {
  const rawLimit = query.limit ?? "50";
  const limit = Number(rawLimit);
  if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > 100)
    throw fieldError("limit", "must be a whole number from 1 to 100");
  let after: string | undefined;
  if (query.nextToken !== undefined) {
    after = Buffer.from(query.nextToken, "base64url").toString("utf8");
    if (!/^RUN#[\w:.#-]{1,200}$/.test(after)) throw fieldError("nextToken", "is not a token this list gave");
  }
  const { runs, next } = await listRuns(limit, after);
  return {
    runs: runs.map(summary),
    ...(next ? { nextToken: Buffer.from(next, "utf8").toString("base64url") } : {}),
  };
}

export async function getReconcileRun(runId: string) {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) throw fieldError("runId", "is not a valid run id");
  const run = await getRun(runId);
  if (!run) throw notFound("Reconcile run");
  const { version: _v, expiresAt, ...rest } = run;
  return { ...rest, expiresAt: new Date(expiresAt * 1000).toISOString() };
}

/** GET /admin/cost?days=N (1 to USAGE_WINDOW_DAYS, the runs records keep; default 30): running hours and estimated cost, and against always-on channels. */
export async function costView(query: Record<string, string | undefined>) {
  const raw = query.days ?? "30";
  const days = Number(raw);
  if (!/^\d+$/.test(raw) || days < 1 || days > USAGE_WINDOW_DAYS)
    throw fieldError("days", `must be a whole number of days from 1 to ${USAGE_WINDOW_DAYS}`);
  const [sessions, destinations, sources] = await Promise.all([
    scanSessions(),
    listDestinations(),
    listSources(),
  ]);
  return costReport({ sessions, destinations, sources, days });
}
