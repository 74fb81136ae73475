import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import * as z from "zod";
import { sfn } from "#lib/aws/clients.ts";
import { executionIsClosed } from "#lib/aws/executions.ts";
import { config, stateMachineArn as stateMachineArnOf } from "#lib/config.ts";
import { errorName, publicErrorMessage } from "#lib/errors.ts";
import {
  CLOSED_BADLY,
  pollingLoop,
  STATE_ENTERED,
  STATE_EXITED,
  TASK_ATTEMPT_FAILED,
  TASK_EVENT,
  TASK_SCHEDULED,
} from "#state-machines/workflow/history-events.ts";
import { executionName, type Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import { ApiError, badRequest, fieldError, notFound } from "./http.ts";

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

// --- which execution a path names ---

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;
/** castflow's execution names (`executionName`): `<lifecycle>-<key>-<n>`, keys being ids (api/validation.ts). */
const EXECUTION_NAME = /^[A-Za-z0-9._-]+-\d+$/;
const MAX_EXECUTION_NAME = 80;

/** The state machines this API starts; an execution ARN of any other is not ours to show. */
function ownExecution(executionArn: string): boolean {
  return Object.values(config().STATE_MACHINE_ARNS).some((m) =>
    executionArn.startsWith(`${m.replace(":stateMachine:", ":execution:")}:`),
  );
}

/**
 * The ARN of the execution `id` names: an execution ARN of one of castflow's state machines, or
 * an execution name `<lifecycle>-<key>-<n>`, whose lifecycle (the longest one the name starts
 * with) gives the state machine. 400 for what is neither; 404 `Execution not found` for an ARN
 * of another state machine or a name of no lifecycle (whether the execution exists is
 * DescribeExecution's to say).
 */
export function executionArnFor(id: string): string {
  if (id.startsWith("arn:")) {
    if (!EXECUTION_ARN.test(id)) {
      throw badRequest("executionArn: must be a URL-encoded Step Functions execution ARN");
    }
    if (!ownExecution(id)) throw notFound("Execution");
    return id;
  }
  if (id.length > MAX_EXECUTION_NAME || !EXECUTION_NAME.test(id)) {
    throw badRequest(
      "executionArn: must be a URL-encoded Step Functions execution ARN or an execution name such as go-live-<sessionId>-1",
    );
  }
  const machines = config().STATE_MACHINE_ARNS;
  const lifecycle = Object.keys(machines)
    .filter((name) => id.startsWith(`${name}-`) && EXECUTION_NAME.test(id.slice(name.length + 1)))
    .sort((a, b) => b.length - a.length)[0];
  const machine = lifecycle === undefined ? undefined : machines[lifecycle];
  if (machine === undefined) throw notFound("Execution");
  return `${machine.replace(":stateMachine:", ":execution:")}:${id}`;
}

// --- reading the history ---

/** Newest events read to find an execution's current state: one page, never the whole history. */
export const CURRENT_STATE_PAGE = 100;
/**
 * When the newest page does not show where the current state (or its polling loop) began, the
 * history is read again newest first in pages of this size (a loop polls up to 150 times, about
 * 11 events a poll), at most DEEP_READ_MAX_PAGES of them.
 */
const DEEP_READ_PAGE = 1000;
const DEEP_READ_MAX_PAGES = 3;
/** A closed execution's history is read whole to find what failed: pages of 1000, at most this many. */
const CLOSED_MAX_PAGES = 20;

type Details = { readonly name?: string; readonly error?: string; readonly cause?: string };

/** The `*EventDetails` members of an event (whichever its type has). */
function detailsOf(e: HistoryEvent): Details[] {
  return Object.entries(e)
    .filter(([key, value]) => key.endsWith("EventDetails") && value && typeof value === "object")
    .map(([, value]) => value as Details);
}

const enteredName = (e: HistoryEvent) =>
  STATE_ENTERED.test(e.type ?? "") ? e.stateEnteredEventDetails?.name : undefined;
const exitedName = (e: HistoryEvent) =>
  STATE_EXITED.test(e.type ?? "") ? e.stateExitedEventDetails?.name : undefined;

/** The error an event reports (a failed attempt, a failed, aborted or timed-out execution), if any. */
function errorOf(
  e: HistoryEvent,
): { readonly error: string; readonly cause: string | undefined } | undefined {
  for (const d of detailsOf(e)) {
    if (typeof d.error === "string" && d.error !== "") {
      return { error: d.error, cause: typeof d.cause === "string" ? d.cause : undefined };
    }
  }
  return undefined;
}

/** The TimeoutSeconds a task attempt runs with, as its Scheduled event records it. */
function timeoutOf(e: HistoryEvent): number | undefined {
  for (const d of detailsOf(e) as { timeoutInSeconds?: unknown }[]) {
    if (typeof d.timeoutInSeconds === "number") return d.timeoutInSeconds;
  }
  return undefined;
}

async function historyPage(
  executionArn: string,
  page: { reverse: boolean; maxResults: number; nextToken?: string | undefined },
): Promise<{ events: HistoryEvent[]; nextToken: string | undefined }> {
  const res = await sfn().send(
    new GetExecutionHistoryCommand({
      executionArn,
      includeExecutionData: false,
      reverseOrder: page.reverse,
      maxResults: page.maxResults,
      nextToken: page.nextToken,
    }),
  );
  return { events: res?.events ?? [], nextToken: res?.nextToken };
}

/**
 * The state an execution is in, from its newest events first (GetExecutionHistory with
 * `reverseOrder`): the most recently entered state that has not exited since (the innermost
 * one, inside a Parallel), and the index of its entry in `newestFirst`; undefined when none is
 * open in these events. `exited` is left as the scan found it.
 */
function openState(
  newestFirst: readonly HistoryEvent[],
  exited = new Map<string, number>(),
): { readonly name: string; readonly index: number } | undefined {
  for (const [index, e] of newestFirst.entries()) {
    const out = exitedName(e);
    if (out) exited.set(out, (exited.get(out) ?? 0) + 1);
    const name = enteredName(e);
    if (name) {
      const n = exited.get(name) ?? 0;
      if (n === 0) return { name, index };
      exited.set(name, n - 1);
    }
  }
  return undefined;
}

// --- budgets ---

// --- what a running execution is doing ---

export interface Progress {
  /** What the time is measured for: the current state, or the polling loop it is part of. */
  readonly state: string;
  readonly elapsedSeconds: number;
  /** What the state machine allows it: a task's TimeoutSeconds, a polling loop's whole bound; null when unbounded. */
  readonly budgetSeconds: number | null;
}

interface RunningView {
  readonly currentState?: string;
  readonly progress?: Progress;
  readonly retries?: number;
  /** False when older events are needed to say where the current state or its loop began. */
  readonly complete: boolean;
}

const secondsSince = (e: HistoryEvent, now: number) =>
  Math.max(0, Math.round((now - (e.timestamp?.getTime() ?? now)) / 100) / 10);

/**
 * The current state, its progress and its retries from the newest events first. Retries are
 * the current state's since it was entered (each attempt after the first is one). A state of a
 * polling loop is measured from the loop's entry, against the loop's bound.
 */
export function runningView(newestFirst: readonly HistoryEvent[], now: number): RunningView {
  const exited = new Map<string, number>();
  const current = openState(newestFirst, exited);
  if (!current) return { complete: false };
  const entry = newestFirst[current.index] as HistoryEvent;
  const attempts = newestFirst.slice(0, current.index).filter((e) => TASK_SCHEDULED.test(e.type ?? ""));
  const retries = Math.max(0, attempts.length - 1);
  const base = { currentState: current.name, ...(attempts.length > 0 ? { retries } : {}) };
  const loop = pollingLoop(current.name);
  if (!loop) {
    const timeout = attempts[0] ? timeoutOf(attempts[0]) : undefined;
    return {
      ...base,
      progress: {
        state: current.name,
        elapsedSeconds: secondsSince(entry, now),
        budgetSeconds: timeout ?? null,
      },
      complete: true,
    };
  }
  // The loop's entry: the newest entry of it before the current state's. An open state met first
  // encloses the current one (a Parallel): the loop cannot have begun before it.
  for (let i = current.index; i < newestFirst.length; i++) {
    const e = newestFirst[i] as HistoryEvent;
    const name = enteredName(e);
    if (name === loop.entry) {
      return {
        ...base,
        progress: {
          state: loop.entry,
          elapsedSeconds: secondsSince(e, now),
          budgetSeconds: loop.budgetSeconds,
        },
        complete: true,
      };
    }
    if (i === current.index) continue;
    const out = exitedName(e);
    if (out) exited.set(out, (exited.get(out) ?? 0) + 1);
    if (name) {
      const n = exited.get(name) ?? 0;
      if (n === 0) return { ...base, complete: true };
      exited.set(name, n - 1);
    }
  }
  return { ...base, complete: false };
}

async function explainRunning(executionArn: string): Promise<RunningView> {
  // Clients poll: the newest page says it all unless a long loop or a long run of retries hides
  // where the state began; then read newest first again in big pages (a few at most).
  const first = await historyPage(executionArn, { reverse: true, maxResults: CURRENT_STATE_PAGE });
  let view = runningView(first.events, Date.now());
  if (view.complete || !first.nextToken) return view;
  const newestFirst: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < DEEP_READ_MAX_PAGES; page++) {
    const res = await historyPage(executionArn, { reverse: true, maxResults: DEEP_READ_PAGE, nextToken });
    newestFirst.push(...res.events);
    view = runningView(newestFirst, Date.now());
    nextToken = res.nextToken;
    if (view.complete || !nextToken) break;
  }
  return view;
}

// --- what failed ---

export interface Failure {
  /** Where the failure began: the task that failed for good (not retried) or the Fail state entered. */
  readonly state: string | null;
  readonly error: string | null;
  /** castflow's own errors keep their message; an AWS error is named only (`publicErrorMessage`). */
  readonly cause: string | null;
}

interface FailureView {
  readonly failure: Failure;
  /** Retries of the failed state before it failed for good. */
  readonly retries?: number;
}

/**
 * Where a closed execution went wrong, from its whole history oldest first. FAILED: the first
 * task failure that was not retried and carries the execution's error (what its Fail state
 * re-raises after the compensation), or the first Fail state entered, whichever comes first;
 * TIMED_OUT or ABORTED: the state open when it ended.
 */
export function failureView(
  oldestFirst: readonly HistoryEvent[],
  status: string,
  executionError: { readonly code: string; readonly message: string } | undefined,
): FailureView {
  const open: string[] = [];
  const retries = new Map<string, number>();
  let pending: { state: string | null; error: string; cause: string } | undefined;
  let origin: (Failure & { readonly retries: number }) | undefined;
  let lastFailed: typeof origin;
  const settle = () => {
    if (!pending) return;
    const failed = { ...pending, retries: pending.state === null ? 0 : (retries.get(pending.state) ?? 0) };
    lastFailed = failed;
    if (!origin && failed.error === executionError?.code) origin = failed;
    pending = undefined;
  };
  const asExecutionFailed = (state: string | null) => ({
    state,
    error: executionError?.code ?? null,
    cause: executionError?.message || null,
    retries: 0,
  });
  for (const e of oldestFirst) {
    const type = e.type ?? "";
    const innermost = open.at(-1) ?? null;
    if (TASK_SCHEDULED.test(type) && pending && pending.state === innermost) {
      if (innermost !== null) retries.set(innermost, (retries.get(innermost) ?? 0) + 1);
      pending = undefined;
      continue;
    }
    settle();
    const error = TASK_ATTEMPT_FAILED.test(type) ? errorOf(e) : undefined;
    if (error) {
      pending = { state: innermost, error: error.error, cause: publicErrorMessage(error.error, error.cause) };
      continue;
    }
    const entered = enteredName(e);
    if (entered) {
      open.push(entered);
      retries.set(entered, 0);
      if (type === "FailStateEntered" && !origin) origin = asExecutionFailed(entered);
    }
    const out = exitedName(e);
    if (out) {
      const at = open.lastIndexOf(out);
      if (at >= 0) open.length = at;
    }
  }
  settle();
  const stoppedIn = asExecutionFailed(open.at(-1) ?? null);
  const { retries: failedRetries, ...failure } =
    status === "FAILED" ? (origin ?? lastFailed ?? stoppedIn) : stoppedIn;
  return {
    failure: { ...failure, cause: failure.cause || null },
    ...(failedRetries > 0 ? { retries: failedRetries } : {}),
  };
}

async function explainFailure(
  view: Pick<ExecutionView, "executionArn" | "status" | "error">,
): Promise<FailureView> {
  const oldestFirst: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < CLOSED_MAX_PAGES; page++) {
    const res = await historyPage(view.executionArn, {
      reverse: false,
      maxResults: DEEP_READ_PAGE,
      nextToken,
    });
    oldestFirst.push(...res.events);
    nextToken = res.nextToken;
    if (!nextToken) break;
  }
  return failureView(oldestFirst, view.status, view.error);
}

// --- GET /executions/{id} ---

export interface ExecutionView {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly currentState?: string;
  readonly progress?: Progress;
  /** Retries of the state this answer is about: the current one while running, the failed one after. */
  readonly retries?: number;
  readonly failure?: Failure;
  readonly output?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  /** For the caller's ownership check; never part of an answer. */
  readonly input: Record<string, unknown>;
}

/** DescribeExecution, as the API shows it (with the input, for the ownership check); undefined when there is none. */
export async function describeExecution(executionArn: string): Promise<ExecutionView | undefined> {
  let d: DescribeExecutionCommandOutput;
  try {
    d = await sfn().send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    const name = errorName(err);
    if (name === "ExecutionDoesNotExist" || name === "InvalidArn") return undefined;
    throw err;
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
    ...(d.output !== undefined ? { output: parse(d.output) } : {}),
    ...(d.error ? { error: { code: d.error, message: publicErrorMessage(d.error, d.cause) } } : {}),
    input: input && typeof input === "object" ? (input as Record<string, unknown>) : {},
  };
}

/**
 * What the history says about an execution: while it runs, its current state, that state's
 * progress and retries; once failed, timed out or aborted, the state where that happened with
 * its error and retries. States and errors only: no payload is read.
 */
export async function explainExecution<V extends ExecutionView | Omit<ExecutionView, "input">>(
  view: V,
): Promise<V> {
  const { executionArn, name, status, startDate, stopDate, ...rest } = view as ExecutionView;
  let explained: { currentState?: string; progress?: Progress; retries?: number; failure?: Failure } = {};
  if (status === "RUNNING") {
    const { complete: _complete, ...running } = await explainRunning(executionArn);
    explained = running;
  } else if (CLOSED_BADLY.has(status)) {
    explained = await explainFailure({ executionArn, status, ...(rest.error ? { error: rest.error } : {}) });
  }
  return {
    executionArn,
    name,
    status,
    startDate,
    ...(stopDate ? { stopDate } : {}),
    ...explained,
    ...rest,
  } as V;
}

// --- GET /executions/{id}/history ---

export interface CompactEvent {
  readonly id: number;
  readonly timestamp: string;
  readonly type: string;
  /** The state the event is about: its own name, or the task state a task attempt belongs to. */
  readonly state?: string;
  readonly error?: string;
  readonly cause?: string;
}

export interface HistoryPage {
  readonly events: CompactEvent[];
  readonly nextToken?: string;
}

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 100;

/**
 * The API's page token: Step Functions' own, plus the states open where the page ended, so the
 * next page can name the task state of its first task events. Opaque to clients; a forged one
 * can only mislabel the caller's own page.
 */
const Cursor = z.object({
  // GetExecutionHistory's own nextToken: at most 1024 characters.
  t: z.string().min(1).max(1024),
  o: z.array(z.string().min(1).max(MAX_EXECUTION_NAME)).max(32),
});
type Cursor = z.infer<typeof Cursor>;

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");

function decodeCursor(token: string): Cursor {
  try {
    return Cursor.parse(JSON.parse(Buffer.from(token, "base64url").toString("utf8")));
  } catch {
    throw fieldError("nextToken", "is not a token this API gave");
  }
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return HISTORY_DEFAULT_LIMIT;
  const n = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= HISTORY_MAX_LIMIT)) {
    throw fieldError("limit", `must be a whole number from 1 to ${HISTORY_MAX_LIMIT}`);
  }
  return n;
}

/** One event as the API shows it: no input, output or parameters; an AWS error by its name only. */
function compactEvent(e: HistoryEvent, open: string[]): CompactEvent {
  const type = e.type ?? "Unknown";
  let state: string | undefined;
  const entered = enteredName(e);
  const out = exitedName(e);
  if (entered) {
    open.push(entered);
    state = entered;
  } else if (out) {
    const at = open.lastIndexOf(out);
    if (at >= 0) open.length = at;
    state = out;
  } else if (TASK_EVENT.test(type)) {
    state = open.at(-1);
  } else {
    const iteration = detailsOf(e).find((d) => type.startsWith("MapIteration") && typeof d.name === "string");
    state = iteration?.name;
  }
  const error = errorOf(e);
  const cause = error ? publicErrorMessage(error.error, error.cause) : "";
  return {
    id: e.id ?? 0,
    timestamp: iso(e.timestamp),
    type,
    ...(state ? { state } : {}),
    ...(error ? { error: error.error } : {}),
    ...(cause ? { cause } : {}),
  };
}

/**
 * A page of an execution's history, oldest first: `limit` events (1-100, default 50) after
 * `nextToken`, each `{id, timestamp, type, state?, error?, cause?}`. Read without execution
 * data, and nothing but these members is passed on.
 */
export async function executionHistory(
  executionArn: string,
  query: { readonly nextToken?: string | undefined; readonly limit?: string | undefined },
): Promise<HistoryPage> {
  const limit = parseLimit(query.limit);
  const cursor = query.nextToken === undefined ? undefined : decodeCursor(query.nextToken);
  let page: Awaited<ReturnType<typeof historyPage>>;
  try {
    page = await historyPage(executionArn, { reverse: false, maxResults: limit, nextToken: cursor?.t });
  } catch (err) {
    if (errorName(err) === "InvalidToken" || errorName(err) === "ValidationException")
      throw fieldError("nextToken", "is not a token of this execution's history; read it again without one");
    throw err;
  }
  const open = [...(cursor?.o ?? [])];
  const events = page.events.map((e) => compactEvent(e, open));
  return {
    events,
    ...(page.nextToken ? { nextToken: encodeCursor({ t: page.nextToken, o: open.slice(-32) }) } : {}),
  };
}
