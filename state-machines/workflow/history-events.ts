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
