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
 * Starts an execution of `lifecycle` named `<lifecycle>-<key>-<n>`, from `n = after + 1`, or
 * returns the execution already running under that name with the same input (Step Functions'
 * own idempotency: concurrent callers computing the same name and input get one execution). A
 * name a closed execution holds (names stay reserved for 90 days) moves on to the next `n`; the
 * caller stores the `n` it got on its record, so the next start begins past every used name and
 * names never run out.
 */
export async function startLifecycle<I extends z.ZodType>(
  lifecycle: Lifecycle<I>,
  after: number,
  input: (n: number) => z.input<I>,
): Promise<StartedExecution & { readonly n: number }> {
  const stateMachineArn = stateMachineArnOf(lifecycle.name);
  for (let n = after + 1; ; n++) {
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
      if (n - after >= MAX_NAME_PROBES) {
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

/**
 * The state an execution is in: the most recently entered state that has not exited yet
 * (the innermost one, inside a Parallel). Undefined once the execution has closed.
 */
export function currentState(events: readonly HistoryEvent[]): string | undefined {
  const open: string[] = [];
  for (const e of events) {
    if (ENTERED.test(e.type ?? "") && e.stateEnteredEventDetails?.name)
      open.push(e.stateEnteredEventDetails.name);
    if (EXITED.test(e.type ?? "") && e.stateExitedEventDetails?.name) {
      const i = open.lastIndexOf(e.stateExitedEventDetails.name);
      if (i >= 0) open.splice(i, 1);
    }
  }
  return open.at(-1);
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
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn().send(
        new GetExecutionHistoryCommand({
          executionArn,
          includeExecutionData: false,
          maxResults: 1000,
          nextToken,
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    currentStateName = currentState(events);
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
