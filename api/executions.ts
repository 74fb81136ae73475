import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { sfn } from "../lib/clients.ts";
import { errorName, publicErrorMessage } from "../lib/errors.ts";
import { executionIsClosed } from "../lib/executions.ts";

export interface StartedExecution {
  readonly executionArn: string;
  readonly executionName: string;
  readonly startDate: string;
}

/**
 * Starts `<base>-<n>`, or returns the execution already running under that name with the same
 * input (Step Functions' own idempotency: concurrent callers computing the same name and input
 * get one execution). A name already used by a closed execution moves on to n+1.
 */
export async function startNamedExecution(
  stateMachineArn: string,
  base: string,
  first: number,
  input: (n: number) => Record<string, unknown>,
): Promise<StartedExecution & { readonly n: number }> {
  for (let n = first; n < first + 20; n++) {
    const name = `${base}-${n}`;
    try {
      const res = await sfn().send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input(n)) }),
      );
      if (!res.executionArn) throw new Error("StartExecution returned no executionArn");
      return { executionArn: res.executionArn, executionName: name, startDate: iso(res.startDate), n };
    } catch (err) {
      if (errorName(err) !== "ExecutionAlreadyExists") throw err;
    }
  }
  throw new Error(`No free execution name for ${base} after 20 attempts`);
}

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
