import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import type * as z from "zod";
import { sfn } from "#lib/aws/clients.ts";
import { executionIsClosed } from "#lib/aws/executions.ts";
import { stateMachineArn as stateMachineArnOf } from "#lib/config.ts";
import { errorName, publicErrorMessage } from "#lib/errors.ts";
import { executionName, type Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import { ApiError } from "./http.ts";

export interface StartedExecution {
  readonly executionArn: string;
  readonly executionName: string;
  readonly startDate: string;
}

/**
 * Starts an execution of `lifecycle` named `<lifecycle>-<key>-<n>` from `n = from` (at least 1),
 * or returns the execution already running under that name with the same input (Step Functions'
 * own idempotency: a repeated or concurrent request gets the one execution). A name a closed
 * execution holds (names stay reserved for 90 days) moves on to the next `n`; the caller stores
 * the `n` it got on its record and starts from it next time, so names never run out.
 */
export async function startLifecycle<I extends z.ZodType>(
  lifecycle: Lifecycle<I>,
  from: number,
  input: (n: number) => z.input<I>,
): Promise<StartedExecution & { readonly n: number }> {
  const stateMachineArn = stateMachineArnOf(lifecycle.name);
  const first = Math.max(from, 1);
  for (let n = first; ; n++) {
    const payload = lifecycle.input.parse(input(n));
    const name = executionName(lifecycle, lifecycle.key(payload), n);
    try {
      const res = await sfn().send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(payload) }),
      );
      if (!res.executionArn) throw new Error("StartExecution returned no executionArn");
      return { executionArn: res.executionArn, executionName: name, startDate: iso(res.startDate), n };
    } catch (err) {
      if (errorName(err) !== "ExecutionAlreadyExists") throw err;
      if (n - first >= MAX_NAME_PROBES) {
        // Only reachable if something else starts executions under castflow's names.
        throw new ApiError(503, "unavailable", "Could not find a free execution name; retry shortly");
      }
    }
  }
}

/** Names tried past the record's counter before giving up for this request. */
const MAX_NAME_PROBES = 100;

export async function isRunning(executionArn: string | undefined): Promise<boolean> {
  return executionArn !== undefined && !(await executionIsClosed(executionArn));
}

const iso = (d: Date | undefined) => (d ?? new Date()).toISOString();

const ENTERED = /StateEntered$/;
const EXITED = /StateExited$/;

/** Newest events read to find an execution's current state: one page, never the whole history. */
export const CURRENT_STATE_PAGE = 100;
/** Pages read at most: a state retried for a long time adds events but no new entry. */
const CURRENT_STATE_MAX_PAGES = 5;

/**
 * The state an execution is in, from its newest events first (GetExecutionHistory with
 * `reverseOrder`): the most recently entered state that has not exited since (the innermost
 * one, inside a Parallel). Undefined when none is open in these events.
 */
export function currentState(newestFirst: readonly HistoryEvent[]): string | undefined {
  const exited = new Map<string, number>();
  for (const e of newestFirst) {
    const exitedName = EXITED.test(e.type ?? "") ? e.stateExitedEventDetails?.name : undefined;
    if (exitedName) exited.set(exitedName, (exited.get(exitedName) ?? 0) + 1);
    const enteredName = ENTERED.test(e.type ?? "") ? e.stateEnteredEventDetails?.name : undefined;
    if (enteredName) {
      const n = exited.get(enteredName) ?? 0;
      if (n === 0) return enteredName;
      exited.set(enteredName, n - 1);
    }
  }
  return undefined;
}

export interface ExecutionView {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly currentState?: string;
  readonly output?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  readonly input: Record<string, unknown>;
}

/** DescribeExecution plus the current state from the history (states only; no payloads are read). */
export async function describeExecution(executionArn: string): Promise<ExecutionView | undefined> {
  let d: DescribeExecutionCommandOutput;
  try {
    d = await sfn().send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    const name = errorName(err);
    if (name === "ExecutionDoesNotExist" || name === "InvalidArn") return undefined;
    throw err;
  }
  let currentStateName: string | undefined;
  if (d.status === "RUNNING") {
    // A go-live has hundreds of events and clients poll: read the newest page, and older ones
    // only while a long run of retries hides the state's entry (a few pages at most).
    const newestFirst: HistoryEvent[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < CURRENT_STATE_MAX_PAGES && currentStateName === undefined; page++) {
      const res = await sfn().send(
        new GetExecutionHistoryCommand({
          executionArn,
          includeExecutionData: false,
          reverseOrder: true,
          maxResults: CURRENT_STATE_PAGE,
          nextToken,
        }),
      );
      newestFirst.push(...(res.events ?? []));
      currentStateName = currentState(newestFirst);
      nextToken = res.nextToken;
      if (!nextToken) break;
    }
  }
  const parse = (s: string | undefined): unknown => {
    if (s === undefined) return undefined;
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  };
  const input = parse(d.input);
  return {
    executionArn,
    name: d.name ?? "",
    status: d.status ?? "UNKNOWN",
    startDate: iso(d.startDate),
    ...(d.stopDate ? { stopDate: d.stopDate.toISOString() } : {}),
    ...(currentStateName ? { currentState: currentStateName } : {}),
    ...(d.output !== undefined ? { output: parse(d.output) } : {}),
    ...(d.error ? { error: { code: d.error, message: publicErrorMessage(d.error, d.cause) } } : {}),
    input: input && typeof input === "object" ? (input as Record<string, unknown>) : {},
  };
}
