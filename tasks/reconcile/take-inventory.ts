import { config } from "#lib/config.ts";
import { classify, executionsToCheck } from "#lib/reconcile/classify.ts";
import {
  confirmNoInput,
  describeExecutions,
  gatherAwsResources,
  gatherRecords,
  nameOf,
  runningExecutions,
  tagUnclaimedFlows,
} from "#lib/reconcile/inventory.ts";
import { FINDING_CLASSES, type Finding, type Repair } from "#lib/reconcile/model.ts";
import { listRuns, newRun, putRun, RunIdentity } from "#lib/reconcile/store.ts";
import { defineTask } from "#tasks/define.ts";

/** Repairs one run makes at most; the rest is reported `proposed` and left to the next run. */
export const MAX_REPAIRS_PER_RUN = 25;
/** Findings one report keeps (the counts cover every finding). */
export const MAX_FINDINGS_KEPT = 200;

/** A repair as the state machine's Map hands it to one state: the resource ids flat, for Choice and payloads. */
export interface RepairItem {
  readonly findingId: string;
  readonly resourceType: Finding["resource"]["type"];
  readonly resourceId: string;
  /** When the run started: a record changed since then is not repaired (confirm-finding). */
  readonly runStartedAt: string;
  readonly action: Repair["action"];
  readonly channelId: string | null;
  readonly inputId: string | null;
  readonly channelArn: string | null;
  readonly repair: Repair;
}

const field = (r: Repair, k: string): string | null => {
  const v = (r as Record<string, unknown>)[k];
  return typeof v === "string" ? v : null;
};
const toItem = (f: Finding, runStartedAt: string): RepairItem => ({
  findingId: f.findingId,
  resourceType: f.resource.type,
  resourceId: f.resource.id,
  runStartedAt,
  action: f.repair.action,
  channelId: field(f.repair, "channelId"),
  inputId: field(f.repair, "inputId"),
  channelArn: field(f.repair, "channelArn"),
  repair: f.repair,
});

/**
 * reconcile's first step: inventories castflow's records and the account's resources, classifies
 * what disagrees and writes the run's report (every finding, `proposed`); returns the repairs to
 * make: the findings a run at least the grace period older saw too (none in a dry run, when the
 * deployment is dry-run only, or while another run is in progress), at most MAX_REPAIRS_PER_RUN.
 */
export const task = defineTask({
  name: "take-inventory",
  entry: import.meta.url,
  input: RunIdentity,
  table: "write",
  // Paced lists of a large account (1,000 IVS channels are 10 pages at 2 a second) and one Scan
  // of the records: well past the default 30 s.
  timeoutSeconds: 300,
  grants: [
    { actions: ["medialive:ListChannels", "medialive:ListInputs", "ivs:ListChannels"], on: "*" },
    { actions: ["medialive:ListAlerts"], on: "medialive" },
    { actions: ["mediaconnect:ListFlows"], on: "*" },
    { actions: ["mediaconnect:ListTagsForResource"], on: "mediaconnect" },
    { actions: ["states:DescribeExecution"], on: "states" },
    { actions: ["states:ListExecutions"], on: "state-machines" },
  ],
  run: async ({ runId, dryRun, executionArn, startedAt }, { signal }) => {
    const {
      STAGE: stage,
      RECONCILE_GRACE_SECONDS: graceSeconds,
      RECONCILE_DRY_RUN_ONLY,
      RECONCILE_IDLE_INPUT_MINUTES: idleInputMinutes,
      RECONCILE_IDLE_RESOURCE_TTL_HOURS: idleResourceTtlHours,
    } = config();
    // AWS first, then what runs, then the records: the records are the freshest view, so a
    // resource a lifecycle has just made is seen with the record (or the running execution) that
    // explains it.
    const aws = await gatherAwsResources(signal);
    const running = await runningExecutions(signal);
    const records = await gatherRecords();
    const flows = await tagUnclaimedFlows(aws.flows, records.sources, signal);
    const resources = { ...aws, ...records, flows };
    const executions = await describeExecutions(executionsToCheck(resources, stage), running, signal);
    const now = new Date();
    const noInputSince = await confirmNoInput(aws.channels, records.sessions, now, idleInputMinutes, signal);
    const findings = classify(
      { ...resources, ...executions, noInputSince, now },
      { graceSeconds, stage, idleInputMinutes, idleResourceTtlHours },
    );

    // One run repairs at a time: a run that finds another one running only reports.
    const ownName = nameOf(executionArn);
    const concurrent = (running.byLifecycle.reconcile ?? []).some((n) => n !== ownName);
    const dry = dryRun || RECONCILE_DRY_RUN_ONLY || concurrent;
    // A finding is repaired only once a run at least the grace period older saw it too: a
    // resource made a moment before its record (or a record written a moment before its
    // execution shows) is never raced.
    const earlier = (await listRuns(20)).runs.find(
      (r) => r.runId !== runId && Date.parse(r.startedAt) <= now.getTime() - graceSeconds * 1000,
    );
    // The same finding with the same repair: a channel stopped as idle spend one run and kept past
    // the TTL the next is a new finding, whose delete waits its own grace period.
    const sighting = (f: Pick<Finding, "findingId" | "repair">) => `${f.findingId} ${f.repair.action}`;
    const seenBefore = new Set(earlier?.findings.map(sighting));
    const repairable = findings.filter((f) => f.repair.action !== "none" && seenBefore.has(sighting(f)));
    const repairs = dry ? [] : repairable.slice(0, MAX_REPAIRS_PER_RUN);
    const counts = Object.fromEntries(
      FINDING_CLASSES.map((c) => [c, findings.filter((f) => f.class === c).length]),
    ) as Record<(typeof FINDING_CLASSES)[number], number>;
    // The report keeps the repairs and then the other findings up to MAX_FINDINGS_KEPT (a
    // DynamoDB item holds 400 KB); the counts cover them all.
    const kept = [...repairs, ...findings.filter((f) => !repairs.includes(f))].slice(0, MAX_FINDINGS_KEPT);
    await putRun({
      ...newRun({ runId, executionArn, dryRun: dry, startedAt }, now),
      ...(concurrent && !dryRun
        ? { note: "Another reconcile run was in progress: this one only reported." }
        : {}),
      counts,
      findings: kept.map((f) => ({ ...f, action: f.repair.action === "none" ? "none" : "proposed" })),
      omitted: findings.length - kept.length,
      deferred: dry ? 0 : repairable.length - repairs.length,
    });
    return { dryRun: dry, found: findings.length, repairs: repairs.map((f) => toItem(f, startedAt)) };
  },
});

export const handler = task.handler;
