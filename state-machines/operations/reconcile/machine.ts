import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import type { RepairOutcome } from "#lib/reconcile/store.ts";
import { defineMachine } from "#state-machines/workflow/machine.ts";
import { EXECUTION, EXECUTION_START_TIME, present, refs } from "#state-machines/workflow/state.ts";
import { type TaskFunctions, taskState } from "#state-machines/workflow/task-state.ts";
import * as deleteIvsChannel from "#tasks/channels/delete-ivs-channel.ts";
import type { TaskOutput } from "#tasks/define.ts";
import * as deleteChannel from "#tasks/medialive/delete-channel.ts";
import * as deleteInput from "#tasks/medialive/delete-input.ts";
import * as stopChannel from "#tasks/medialive/stop-channel.ts";
import * as applyRepair from "#tasks/reconcile/apply-repair.ts";
import * as confirmFinding from "#tasks/reconcile/confirm-finding.ts";
import type { RepairItem } from "#tasks/reconcile/take-inventory.ts";
import * as takeInventory from "#tasks/reconcile/take-inventory.ts";
import * as writeReport from "#tasks/reconcile/write-report.ts";
import { reconcile } from "./lifecycle.ts";

/** reconcile's state, written once. */
type ReconcileState = {
  readonly runId: string;
  readonly dryRun: boolean;
  readonly inventory: TaskOutput<typeof takeInventory.task>;
  readonly outcomes: RepairOutcome[];
  readonly report: TaskOutput<typeof writeReport.task>;
  readonly error: { readonly Error: string; readonly Cause?: string };
};
const s = refs<ReconcileState>();
/** One repair inside the Map. */
const r = refs<
  RepairItem & {
    readonly error: { readonly Error: string };
    readonly confirmed: TaskOutput<typeof confirmFinding.task>;
  }
>();

/**
 * One repair, made by the task the lifecycles use for it (stop, delete channel, delete input,
 * delete IVS channel) or by apply-repair (settle, run a lifecycle, release a claim); its outcome
 * is `repaired`, or `failed` with the error's name (one repair failing does not fail the run).
 */
function repairOne(scope: Construct, fns: TaskFunctions): sfn.IChainable {
  const repaired = new sfn.Pass(scope, "Repaired", {
    parameters: { "findingId.$": r.path("findingId"), outcome: "repaired" },
  });
  const failed = new sfn.Pass(scope, "Repair Failed", {
    parameters: { "findingId.$": r.path("findingId"), outcome: "failed", "error.$": r.path("error.Error") },
  });
  const step = (state: sfn.TaskStateBase) =>
    state.addCatch(failed, { errors: ["States.ALL"], resultPath: r.path("error") }).next(repaired);
  const discard = sfn.JsonPath.DISCARD;
  // One AWS call each, by the task every lifecycle uses for it.
  const direct: [RepairItem["action"], sfn.TaskStateBase][] = [
    [
      "stop-channel",
      taskState(scope, fns, "Stop Channel", {
        task: stopChannel.task,
        payload: { channelId: present(r.at("channelId")) },
        resultPath: discard,
      }),
    ],
    [
      "delete-channel",
      taskState(scope, fns, "Delete Channel", {
        task: deleteChannel.task,
        payload: { channelId: present(r.at("channelId")) },
        resultPath: discard,
      }),
    ],
    [
      "delete-input",
      taskState(scope, fns, "Delete Input", {
        task: deleteInput.task,
        payload: { inputId: present(r.at("inputId")) },
        resultPath: discard,
      }),
    ],
    [
      "delete-ivs-channel",
      taskState(scope, fns, "Delete IVS Channel", {
        task: deleteIvsChannel.task,
        payload: { channelArn: present(r.at("channelArn")) },
        resultPath: discard,
      }),
    ],
  ];
  const choice = new sfn.Choice(scope, "Which Repair?");
  for (const [action, state] of direct)
    choice.when(sfn.Condition.stringEquals(r.path("action"), action), step(state));
  // Right before acting: is the finding still what the inventory saw? Else skipped, never forced.
  const confirm = taskState(scope, fns, "Confirm Finding", {
    task: confirmFinding.task,
    payload: {
      resourceType: r.at("resourceType"),
      resourceId: r.at("resourceId"),
      action: r.at("action"),
      runStartedAt: r.at("runStartedAt"),
    },
    resultPath: r.slot("confirmed"),
  });
  const skipped = new sfn.Pass(scope, "Skipped", {
    parameters: { "findingId.$": r.path("findingId"), outcome: "skipped" },
  });
  choice.otherwise(
    step(
      taskState(scope, fns, "Apply Repair", {
        task: applyRepair.task,
        payload: { repair: r.at("repair") },
        resultPath: discard,
      }),
    ),
  );
  return confirm
    .addCatch(failed, { errors: ["States.ALL"], resultPath: r.path("error") })
    .next(
      new sfn.Choice(scope, "Still Needed?")
        .when(sfn.Condition.booleanEquals(r.path("confirmed.confirmed"), true), choice)
        .otherwise(skipped),
    );
}

/**
 * reconcile: Take Inventory (records, resources, the executions they name; classify; write the
 * report), Repair Findings (a Map, two at a time: the lifecycles running beside it keep their
 * share of MediaLive's and IVS's rate limits), Write Report. Any failure is written to the report
 * before the execution fails.
 */
export const reconcileMachine = defineMachine(reconcile, (scope, fns) => {
  // What every report step names the run by (a run that failed before its report was written gets one).
  const run = {
    runId: s.at("runId"),
    dryRun: s.at("dryRun"),
    executionArn: EXECUTION.executionArn,
    startedAt: EXECUTION_START_TIME,
  };
  const inventory = taskState(scope, fns, "Take Inventory", {
    task: takeInventory.task,
    payload: run,
    resultPath: s.slot("inventory"),
  });
  const repairs = new sfn.Map(scope, "Repair Findings", {
    itemsPath: s.path("inventory.repairs"),
    maxConcurrency: 2,
    resultPath: s.path("outcomes"),
  });
  repairs.itemProcessor(repairOne(scope, fns));
  const report = taskState(scope, fns, "Write Report", {
    task: writeReport.task,
    payload: { ...run, outcomes: s.at("outcomes") },
    resultPath: s.slot("report"),
  });
  const noRepairs = taskState(scope, fns, "Write Report Without Repairs", {
    task: writeReport.task,
    payload: run,
    resultPath: s.slot("report"),
  });
  const failed = new sfn.Fail(scope, "Reconcile Failed", {
    errorPath: "$.error.Error",
    causePath: "$.error.Cause",
  });
  const recordFailure = taskState(scope, fns, "Write Failed Report", {
    task: writeReport.task,
    payload: { ...run, error: s.at("error") },
    resultPath: sfn.JsonPath.DISCARD,
  })
    .addCatch(failed, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD })
    .next(failed);
  const body = new sfn.Parallel(scope, "Reconcile Steps", { outputPath: "$[0]" }).branch(
    inventory.next(
      new sfn.Choice(scope, "Anything To Repair?")
        .when(sfn.Condition.isPresent(`${s.path("inventory.repairs")}[0]`), repairs.next(report))
        .otherwise(noRepairs),
    ),
  );
  body.addCatch(recordFailure, { errors: ["States.ALL"], resultPath: s.path("error") });
  return body.next(
    new sfn.Pass(scope, "Reconciled", {
      parameters: {
        "runId.$": s.path("runId"),
        "found.$": s.path("report.found"),
        "status.$": s.path("report.status"),
      },
    }),
  );
});
