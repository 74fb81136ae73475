import * as waits from "./waits.ts";

/**
 * How castflow reads a Step Functions execution history, in one place for the API
 * (api/executions.ts), the CLI (cli/steps.ts) and the console (local/console/trace.ts).
 */

/** A state entered or exited; the first group is the state's type (`Task`, `Parallel`, ...). */
export const STATE_ENTERED = /^(\w+?)StateEntered$/;
export const STATE_EXITED = /^(\w+?)StateExited$/;
/** A task attempt begins (one per attempt: a retry schedules the task again). */
export const TASK_SCHEDULED = /^(Task|LambdaFunction|Activity)Scheduled$/;
/** A task attempt ends in an error (the state's Retry may schedule it again). */
export const TASK_ATTEMPT_FAILED =
  /^(Task|LambdaFunction|Activity)(Failed|TimedOut|StartFailed|SubmitFailed|ScheduleFailed)$/;
/** A task attempt succeeded. */
export const TASK_SUCCEEDED = /^(Task|LambdaFunction|Activity)Succeeded$/;
/** Events of a task attempt, which belong to the task state open when they happen. */
export const TASK_EVENT =
  /^(Task|LambdaFunction|Activity)(Scheduled|Started|Submitted|Succeeded|Failed|TimedOut|StartFailed|SubmitFailed|ScheduleFailed)$/;
/** Execution statuses that end without success. */
export const CLOSED_BADLY: ReadonlySet<string> = new Set(["FAILED", "TIMED_OUT", "ABORTED"]);

/** The waits castflow's machines poll with (`WaitForState`), as waits.ts declares them. */
export const DECLARED_WAITS: readonly waits.WaitSpec[] = Object.values(waits).filter(
  (v): v is waits.WaitSpec =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as Partial<waits.WaitSpec>).title === "string" &&
    typeof (v as Partial<waits.WaitSpec>).delaySeconds === "number" &&
    typeof (v as Partial<waits.WaitSpec>).maxPolls === "number",
);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The step of a wait (`WaitForState`) that looks at each answer: `<title>: Check State`. */
export const CHECK_STEP = "Check State";

export interface PollingLoop {
  /** The loop's first state (a Pass named after the wait, behind the fragment's prefix if any). */
  readonly entry: string;
  /** What the machine allows the whole loop: its pause times its polls (the ChannelWaitTimeout bound). */
  readonly budgetSeconds: number;
}

/**
 * The polling loop `state` belongs to: `WaitForState` names the loop's states `<title>` and
 * `<title>: <step>` (behind a `<prefix>: ` when a machine uses it twice) and gives up after
 * `maxPolls` pauses of `delaySeconds`. Undefined for any other state, and for a loop built from a
 * spec that waits.ts does not declare under that title (its bound is not known here).
 */
export function pollingLoop(state: string): PollingLoop | undefined {
  let found: { spec: waits.WaitSpec; entry: string } | undefined;
  for (const spec of DECLARED_WAITS) {
    const match = new RegExp(`^((?:.*: )?)${escapeRegExp(spec.title)}(?:: .+)?$`).exec(state);
    if (match && (!found || spec.title.length > found.spec.title.length)) {
      found = { spec, entry: `${match[1] ?? ""}${spec.title}` };
    }
  }
  return found && { entry: found.entry, budgetSeconds: found.spec.delaySeconds * found.spec.maxPolls };
}
