import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import { config } from "#lib/config.ts";
import { errorName, TaskError, TaskErrors } from "#lib/errors.ts";
import { sfn } from "./clients.ts";

/** Seconds since the execution closed; undefined while it runs; Infinity if Step Functions does not know it. */
export async function closedForSeconds(executionArn: string): Promise<number | undefined> {
  try {
    const res = await sfn().send(
      new DescribeExecutionCommand({ executionArn, includedData: "METADATA_ONLY" }),
    );
    if (res.status === "RUNNING") return undefined;
    return res.stopDate ? (Date.now() - res.stopDate.getTime()) / 1000 : Number.POSITIVE_INFINITY;
  } catch (err) {
    if (errorName(err) === "ExecutionDoesNotExist") return Number.POSITIVE_INFINITY;
    throw err;
  }
}

/** True when the execution can no longer make progress (closed, or unknown to Step Functions). */
export async function executionIsClosed(executionArn: string): Promise<boolean> {
  return (await closedForSeconds(executionArn)) !== undefined;
}

/**
 * Whether a session owned by `executionArn` may be taken over: false while it runs; true once it
 * closed more than TAKEOVER_GRACE_SECONDS ago; `TakeoverPending` (retried by the state) in between,
 * because StopExecution does not stop a Lambda already running for it.
 */
export async function mayTakeOver(executionArn: string, namedAt?: string): Promise<boolean> {
  const closedFor = await closedForSeconds(executionArn);
  if (closedFor === undefined) return false;
  // An owner named on the record before its execution started (the API holds a destination, then
  // starts): not there yet is not closed, until the start had ample time to happen.
  if (closedFor === Number.POSITIVE_INFINITY && namedAt && !startLapsed(namedAt)) {
    throw new TaskError(
      TaskErrors.TakeoverPending,
      `${executionArn} was named at ${namedAt} and has not started yet`,
    );
  }
  const grace = config().TAKEOVER_GRACE_SECONDS;
  if (closedFor < grace) {
    throw new TaskError(
      TaskErrors.TakeoverPending,
      `${executionArn} closed ${closedFor.toFixed(1)} s ago; taking over after ${grace} s`,
    );
  }
  return true;
}

/** Seconds an owner named before its execution starts counts as starting (the API's hold-then-start). */
export const PENDING_START_SECONDS = 60;

const startLapsed = (namedAt: string) => Date.now() - Date.parse(namedAt) > PENDING_START_SECONDS * 1000;

/**
 * Whether the owner a record names may still act: its execution runs, or it was named moments ago
 * and has not started yet (the API writes the owner, then starts the execution).
 */
export async function ownerIsActive(executionArn: string, namedAt: string): Promise<boolean> {
  const closedFor = await closedForSeconds(executionArn);
  if (closedFor === undefined) return true;
  return closedFor === Number.POSITIVE_INFINITY && !startLapsed(namedAt);
}
