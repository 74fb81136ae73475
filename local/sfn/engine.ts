/**
 * The execution engine of the local Step Functions service: runs executions with
 * aws-local-stepfunctions, invokes their tasks, records their AWS-shaped history, persists them
 * and aborts them. It knows nothing of the wire API (request shapes, AWS error codes, paging):
 * see api.ts for that.
 */
import { randomUUID } from "node:crypto";
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
} from "aws-local-stepfunctions";
import {
  MAX_TIMER_SECONDS,
  type PreparedDefinition,
  prepareDefinition,
  scaleSeconds,
  type TaskInfo,
} from "./definition.ts";
import {
  EXECUTION_CLOSED_ERROR,
  LOCAL_RUNTIME_RESTARTED_ERROR,
  LOCAL_RUNTIME_STOPPED_ERROR,
  TaskFailure,
  WaitForExecutionTimeoutError,
} from "./errors.ts";
import {
  currentStateName,
  type EngineEvent,
  type HistoryEventRecord,
  HistoryRecorder,
  jsonText,
} from "./history.ts";
import { type ExecutionRecord, type ExecutionStatus, ExecutionStore, loadExecutions } from "./store.ts";

/** Invokes the code behind a Task state's resource (e.g. a Lambda ARN). Throw an Error whose `name` is the error name to fail the task (Retry/Catch match on it). */
export type TaskInvoker = (request: {
  resource: string;
  stateName: string;
  input: unknown;
  executionArn: string;
}) => Promise<unknown>;

export interface LocalStateMachine {
  readonly name: string;
  /** ASL object (JSONPath), e.g. as synthesized by CDK. */
  readonly definition: Record<string, unknown>;
  readonly type?: "STANDARD";
}

export interface EngineOptions {
  machines: readonly LocalStateMachine[];
  invokeTask: TaskInvoker;
  /** Multiplies Wait durations and Retry intervals/max delays. Default 1. */
  timeScale?: number;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  /** Optional JSON file persisting executions (loaded on start, saved on change, debounced). */
  statePath?: string;
}

/**
 * An execution that was RUNNING in the state file when the service started. Its process ended
 * before it closed, so the service recorded it as ABORTED (castflow.LocalRuntimeRestarted); the
 * caller may have to settle what it left behind.
 */
export interface AbortedExecution {
  readonly executionArn: string;
  /** The execution name. */
  readonly name: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  /** The execution input as JSON text, as DescribeExecution returns it. */
  readonly input: string;
}

/** An execution started, or closed (succeeded, failed, timed out or was aborted). */
export type ExecutionEvent =
  | ({ readonly type: "started" } & ExecutionEventBase)
  | ({
      readonly type: "closed";
      readonly status: Exclude<ExecutionStatus, "RUNNING">;
      /** Epoch milliseconds. */
      readonly stopDate: number;
      readonly error?: string;
      readonly cause?: string;
      /**
       * FAILED: the state whose failure failed the execution (the first state that failed with
       * the execution's error and was not retried, e.g. "Wait For Channel Running: Timed Out",
       * not the Parallel around it nor the Fail state after the compensation); TIMED_OUT and
       * ABORTED: the state it was in.
       */
      readonly state?: string;
    } & ExecutionEventBase);

interface ExecutionEventBase {
  readonly executionArn: string;
  /** The execution name. */
  readonly name: string;
  readonly stateMachineName: string;
  /** Epoch milliseconds. */
  readonly startDate: number;
}

/** Told of every execution started and closed, synchronously; what it throws is logged and ignored. */
export type ExecutionListener = (event: ExecutionEvent) => void;

/** A configured state machine, ready to run. */
export interface MachineEntry {
  readonly name: string;
  readonly arn: string;
  readonly prepared: PreparedDefinition;
  readonly engine: StateMachine;
  /** Epoch milliseconds. */
  readonly creationDate: number;
}

/** An execution as the engine exposes it: live (it changes while the execution runs) but read-only. */
export type ExecutionView = Readonly<Omit<ExecutionRecord, "history">> & {
  readonly history: readonly HistoryEventRecord[];
};

type TaskHandlers = NonNullable<NonNullable<RunOptions["overrides"]>["taskResourceLocalHandlers"]>;
type EngineJson = Awaited<ReturnType<TaskHandlers[string]>>;

interface Invocation {
  readonly stateName: string;
  timedOut: boolean;
  /** A callback task's token, once issued. */
  token?: string;
}

/** How a callback task ended: SendTaskSuccess, SendTaskFailure or a heartbeat timeout. */
type CallbackOutcome =
  | { ok: true; output: EngineJson }
  /** `heartbeatTimedOut`: HeartbeatSeconds or TimeoutSeconds ran out (a TaskTimedOut event, not TaskFailed). */
  | { ok: false; failure: TaskFailure; heartbeatTimedOut?: true };

/** A callback task waiting for its token. */
interface PendingCallback {
  settle(outcome: CallbackOutcome): void;
  heartbeat(): void;
}

/** What a SendTask* call found behind its token. */
export type TaskTokenResult = "ok" | "invalid-token" | "task-does-not-exist" | "task-timed-out";

/** How many timed-out tokens are remembered, so a late SendTask* call on one is TaskTimedOut. */
const TIMED_OUT_TOKENS_KEPT = 10_000;

/**
 * Stands for `$$.Task.Token` in the context the engine resolves Parameters with (its context is
 * fixed per run, not per task); a callback task swaps it for its own token before it is invoked.
 */
const TASK_TOKEN_PLACEHOLDER = "castflow-local:task-token";
/** Marks a task token as one this service issued, so garbage is told apart from a closed task. */
const TOKEN_VERSION = "castflow-sfn-local/1";

/** A state that failed and has not been retried (yet): what the execution's failure is traced to. */
interface StateFailure {
  readonly state: string;
  readonly type: string;
  readonly error: string;
}

/** Runtime side of a RUNNING execution. */
interface ActiveExecution {
  readonly record: ExecutionRecord;
  readonly machine: MachineEntry;
  readonly recorder: HistoryRecorder;
  /** Set once the execution closed (stopped, timed out, finished): no more events, no more tasks. */
  closed: boolean;
  readonly invocations: Invocation[];
  /** States that failed and were not retried, in order. */
  readonly failures: StateFailure[];
  /** Cancels local waits (rewritten Wait states); the engine has its own abort. */
  readonly abortController: AbortController;
  abortEngine: () => void;
}

const RESTARTED_CAUSE =
  "The local Step Functions runtime stopped while this execution was running (it was still RUNNING in the state file when the runtime restarted); local executions cannot be resumed.";
const STOPPED_CAUSE =
  "The local Step Functions runtime was shut down while this execution was running; local executions cannot be resumed.";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whatever the invoker threw, as the name + message pair Step Functions works with. */
function toTaskFailure(thrown: unknown): TaskFailure {
  if (thrown instanceof Error) return new TaskFailure(thrown.name || "Error", thrown.message);
  return new TaskFailure("Error", typeof thrown === "string" ? thrown : jsonText(thrown));
}

/** Task results cross a JSON boundary in AWS (Lambda payloads): drop undefined, Dates become strings. */
function asJson(value: unknown): EngineJson {
  return JSON.parse(jsonText(value)) as EngineJson;
}

/** `value` with every string equal to `from` replaced by `to`, at any depth. */
function replaceString(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((item) => replaceString(item, from, to));
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceString(item, from, to)]),
    );
  }
  return value;
}

/** Task tokens are opaque to clients: base64url JSON naming the execution and state, plus a nonce. */
function encodeTaskToken(executionArn: string, stateName: string): string {
  const token = { v: TOKEN_VERSION, x: executionArn, s: stateName, n: randomUUID() };
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function isTaskToken(token: string): boolean {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    return isPlainObject(parsed) && parsed.v === TOKEN_VERSION && typeof parsed.n === "string";
  } catch {
    return false;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The state an execution's failure comes from: the first state that failed with the execution's
 * error and was not retried (a Parallel or Map only passes its branch's failure on), else the
 * last state that failed.
 */
function failedState(failures: readonly StateFailure[], error: string): string | undefined {
  const own = failures.filter((f) => f.type !== "Parallel" && f.type !== "Map");
  return (own.find((f) => f.error === error) ?? own.at(-1) ?? failures.at(-1))?.state;
}

export class ExecutionEngine {
  readonly region: string;
  readonly accountId: string;
  /** The role executions report (ExecutionStarted, DescribeStateMachine, $$.Execution.RoleArn). */
  readonly roleArn: string;
  /** Executions found RUNNING in the state file at start and recorded as ABORTED then. */
  readonly abortedAtStart: readonly AbortedExecution[];
  private readonly timeScale: number;
  private readonly invokeTask: TaskInvoker;
  private readonly machines = new Map<string, MachineEntry>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly active = new Map<string, ActiveExecution>();
  private readonly closeListeners = new Map<string, Set<() => void>>();
  private readonly executionListeners = new Set<ExecutionListener>();
  /** Callback tasks waiting for SendTaskSuccess / SendTaskFailure, by token. */
  private readonly callbacks = new Map<string, PendingCallback>();
  /** Tokens of callback tasks that timed out (TimeoutSeconds or HeartbeatSeconds), oldest first. */
  private readonly timedOutTokens = new Set<string>();
  private readonly store: ExecutionStore | undefined;
  private nextSeq = 1;

  constructor(options: EngineOptions) {
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "000000000000";
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${this.timeScale}`);
    this.invokeTask = options.invokeTask;
    this.roleArn = `arn:aws:iam::${this.accountId}:role/castflow-local-stepfunctions`;

    const creationDate = Date.now();
    for (const machine of options.machines) {
      if (this.machines.has(machine.name)) throw new Error(`Duplicate state machine name '${machine.name}'`);
      const prepared = prepareDefinition(machine.name, machine.definition, this.timeScale);
      this.machines.set(machine.name, {
        name: machine.name,
        arn: this.stateMachineArn(machine.name),
        prepared,
        // Validated above on the original; the scaled copy has fractional durations the
        // validator would reject.
        engine: new StateMachine(prepared.runnable, { validationOptions: { noValidate: true } }),
        creationDate,
      });
    }

    if (options.statePath !== undefined) {
      this.abortedAtStart = Object.freeze(this.loadPersisted(loadExecutions(options.statePath)));
      this.store = new ExecutionStore(options.statePath, () => [...this.executions.values()]);
      this.store.scheduleSave();
    } else {
      this.abortedAtStart = Object.freeze([]);
    }
  }

  /** arn:aws:states:<region>:<account>:stateMachine:<name> */
  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  executionArn(machineName: string, name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:execution:${machineName}:${name}`;
  }

  machine(name: string): MachineEntry | undefined {
    return this.machines.get(name);
  }

  /** In configuration order. */
  listMachines(): MachineEntry[] {
    return [...this.machines.values()];
  }

  execution(executionArn: string): ExecutionView | undefined {
    return this.executions.get(executionArn);
  }

  /** Loaded and started executions, in creation order (also those of machines no longer configured). */
  listExecutions(): ExecutionView[] {
    return [...this.executions.values()];
  }

  /** Starts a new execution; the caller has checked the name is free and the input is JSON text. */
  start(machine: MachineEntry, name: string, inputText: string, input: unknown): ExecutionView {
    const executionArn = this.executionArn(machine.name, name);
    if (this.executions.has(executionArn)) throw new Error(`Execution ${executionArn} already exists`);
    const record: ExecutionRecord = {
      seq: this.nextSeq++,
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: "RUNNING",
      startDate: Date.now(),
      input: inputText,
      history: [],
    };
    this.executions.set(executionArn, record);
    this.launch(machine, record, input);
    this.changed();
    this.emit({ type: "started", ...this.eventBase(record) });
    return record;
  }

  /** Aborts a RUNNING execution with the caller's error and cause; does nothing to a closed one. */
  stop(executionArn: string, error: string | undefined, cause: string | undefined): void {
    const active = this.active.get(executionArn);
    if (active !== undefined && active.record.status === "RUNNING") this.abort(active, error, cause);
  }

  /** Resolves once the execution is no longer RUNNING (at once if it is not, or is unknown). */
  whenClosed(executionArn: string, timeoutMs: number): Promise<void> {
    if (this.executions.get(executionArn)?.status !== "RUNNING") return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const listeners = this.closeListeners.get(executionArn) ?? new Set<() => void>();
      this.closeListeners.set(executionArn, listeners);
      const timer = setTimeout(() => {
        listeners.delete(onClose);
        reject(new WaitForExecutionTimeoutError(executionArn, timeoutMs));
      }, timeoutMs);
      const onClose = () => {
        clearTimeout(timer);
        resolve();
      };
      listeners.add(onClose);
    });
  }

  /** SendTaskSuccess: the callback task behind `token` succeeds with `output` (parsed JSON). */
  sendTaskSuccess(token: string, output: unknown): TaskTokenResult {
    return this.withCallback(token, (callback) => callback.settle({ ok: true, output: asJson(output) }));
  }

  /** SendTaskFailure: the callback task behind `token` fails with `error` / `cause` (Retry/Catch apply). */
  sendTaskFailure(token: string, error: string | undefined, cause: string | undefined): TaskTokenResult {
    // AWS records a missing error or cause as an empty string (unverified in the docs).
    const failure = new TaskFailure(error ?? "", cause ?? "");
    return this.withCallback(token, (callback) => callback.settle({ ok: false, failure }));
  }

  /** SendTaskHeartbeat: restarts the HeartbeatSeconds clock of the callback task behind `token`. */
  sendTaskHeartbeat(token: string): TaskTokenResult {
    return this.withCallback(token, (callback) => callback.heartbeat());
  }

  private withCallback(token: string, act: (callback: PendingCallback) => void): TaskTokenResult {
    const callback = this.callbacks.get(token);
    if (callback !== undefined) {
      act(callback);
      return "ok";
    }
    if (this.timedOutTokens.has(token)) return "task-timed-out";
    return isTaskToken(token) ? "task-does-not-exist" : "invalid-token";
  }

  private rememberTimedOut(token: string): void {
    this.timedOutTokens.add(token);
    if (this.timedOutTokens.size > TIMED_OUT_TOKENS_KEPT) {
      const oldest = this.timedOutTokens.values().next().value;
      if (oldest !== undefined) this.timedOutTokens.delete(oldest);
    }
  }

  /** Tells `listener` of every execution started and closed from now on; returns the unsubscribe. */
  onExecution(listener: ExecutionListener): () => void {
    this.executionListeners.add(listener);
    return () => this.executionListeners.delete(listener);
  }

  private emit(event: ExecutionEvent): void {
    for (const listener of this.executionListeners) {
      try {
        listener(event);
      } catch (error) {
        console.error("[local-sfn] an execution listener failed:", error);
      }
    }
  }

  private eventBase(record: ExecutionRecord): ExecutionEventBase {
    const { executionArn, name, stateMachineArn, startDate } = record;
    return {
      executionArn,
      name,
      stateMachineName: stateMachineArn.slice(stateMachineArn.lastIndexOf(":") + 1),
      startDate,
    };
  }

  /** Aborts running executions (recorded as ABORTED, castflow.LocalRuntimeStopped) and saves. */
  async close(): Promise<void> {
    for (const active of [...this.active.values()]) {
      this.abort(active, LOCAL_RUNTIME_STOPPED_ERROR, STOPPED_CAUSE);
      // Its record is left half-way like one a crash would leave: the next start settles it.
      active.record.toSettle = true;
    }
    await this.store?.flush();
  }

  // --- persistence ---

  private loadPersisted(records: ExecutionRecord[]): AbortedExecution[] {
    const aborted: AbortedExecution[] = [];
    for (const record of records) {
      this.executions.set(record.executionArn, record);
      this.nextSeq = Math.max(this.nextSeq, record.seq + 1);
      if (record.toSettle) {
        // Aborted by a clean stop of the previous run: reported once, then forgotten.
        delete record.toSettle; // saved with the load (the store saves right after)
        const { executionArn, name, stateMachineArn, input } = record;
        const stateMachineName = stateMachineArn.slice(stateMachineArn.lastIndexOf(":") + 1);
        aborted.push(Object.freeze({ executionArn, name, stateMachineArn, stateMachineName, input }));
      } else if (record.status === "RUNNING") {
        // The engine's in-memory state died with the previous process: nothing to resume from.
        const recorder = new HistoryRecorder(record.history, new Map(), this.region, () => {});
        const error = LOCAL_RUNTIME_RESTARTED_ERROR;
        this.closeRecord(record, "ABORTED", { error, cause: RESTARTED_CAUSE });
        recorder.append("ExecutionAborted", {
          executionAbortedEventDetails: { error, cause: RESTARTED_CAUSE },
        });
        const { executionArn, name, stateMachineArn, input } = record;
        const stateMachineName = stateMachineArn.slice(stateMachineArn.lastIndexOf(":") + 1);
        aborted.push(Object.freeze({ executionArn, name, stateMachineArn, stateMachineName, input }));
      }
    }
    return aborted;
  }

  private changed(): void {
    this.store?.scheduleSave();
  }

  // --- executions ---

  private closeRecord(
    record: ExecutionRecord,
    status: Exclude<ExecutionStatus, "RUNNING">,
    result: { output?: string; error?: string; cause?: string },
    state?: string,
  ): void {
    record.status = status;
    record.stopDate = Date.now();
    if (result.output !== undefined) record.output = result.output;
    if (result.error !== undefined) record.error = result.error;
    if (result.cause !== undefined) record.cause = result.cause;
    this.active.delete(record.executionArn);
    const listeners = this.closeListeners.get(record.executionArn);
    this.closeListeners.delete(record.executionArn);
    for (const listener of listeners ?? []) listener();
    this.changed();
    this.emit({
      type: "closed",
      ...this.eventBase(record),
      status,
      stopDate: record.stopDate,
      ...(record.error === undefined ? {} : { error: record.error }),
      ...(record.cause === undefined ? {} : { cause: record.cause }),
      ...(state === undefined ? {} : { state }),
    });
  }

  private launch(machine: MachineEntry, record: ExecutionRecord, input: unknown): void {
    const recorder = new HistoryRecorder(record.history, machine.prepared.states, this.region, () =>
      this.changed(),
    );
    recorder.append(
      "ExecutionStarted",
      {
        executionStartedEventDetails: {
          input: record.input,
          inputDetails: { truncated: false },
          roleArn: this.roleArn,
        },
      },
      record.startDate,
    );
    const active: ActiveExecution = {
      record,
      machine,
      recorder,
      closed: false,
      invocations: [],
      failures: [],
      abortController: new AbortController(),
      abortEngine: () => {},
    };
    this.active.set(record.executionArn, active);

    const handlers: TaskHandlers = {};
    for (const task of machine.prepared.tasks)
      handlers[task.name] = (taskInput) => this.runTask(active, task, taskInput);
    for (const wait of machine.prepared.rewrittenWaits) {
      handlers[wait.name] = (waitInput) => this.runScaledWait(active, waitInput);
    }
    const run = machine.engine.run(input as EngineJson, {
      overrides: { taskResourceLocalHandlers: handlers },
      // The engine copies this context into Parallel branches and Map iterations too, so
      // $$.Execution.Id / Name resolve everywhere. It overwrites Execution.Input and StartTime
      // with its own values (the branch input inside a branch).
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          StartTime: new Date(record.startDate).toISOString(),
          Input: input as EngineJson,
          RoleArn: this.roleArn,
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    });
    active.abortEngine = run.abort;
    // Settle handlers are attached at once so an abort never becomes an unhandled rejection.
    const outcome = run.result.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    void this.follow(active, run.eventLogs, outcome);
  }

  private async follow(
    active: ActiveExecution,
    events: AsyncGenerator<EngineEvent>,
    outcome: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>,
  ): Promise<void> {
    try {
      for await (const event of events) {
        if (active.closed) continue;
        if (event.type === "StateFailed" && event.state.type === "Task" && event.Error === "States.Timeout") {
          this.recordTaskTimeout(active, event.state.name, event.Cause);
        }
        if (event.type === "StateFailed") {
          const type = active.machine.prepared.states.get(event.state.name)?.type ?? event.state.type;
          active.failures.push({ state: event.state.name, type, error: String(event.Error) });
        } else if (event.type === "StateRetried") {
          const i = active.failures.findLastIndex((f) => f.state === event.state.name);
          if (i >= 0) active.failures.splice(i, 1);
        }
        active.recorder.onEngineEvent(event);
      }
    } catch (error) {
      console.error(`[local-sfn] history of ${active.record.executionArn} is incomplete:`, error);
    }
    const result = await outcome;
    if (active.closed) return;
    active.closed = true;
    active.abortController.abort();
    const { record, recorder } = active;
    if (result.ok) {
      const output = jsonText(result.value);
      this.closeRecord(record, "SUCCEEDED", { output });
      recorder.append("ExecutionSucceeded", {
        executionSucceededEventDetails: { output, outputDetails: { truncated: false } },
      });
    } else if (result.error instanceof ExecutionTimeoutError) {
      const error = "States.Timeout";
      const cause = `The execution exceeded its TimeoutSeconds of ${String(active.machine.prepared.original.TimeoutSeconds)} seconds.`;
      this.closeRecord(record, "TIMED_OUT", { error, cause }, currentStateName(record.history));
      recorder.append("ExecutionTimedOut", { executionTimedOutEventDetails: { error, cause } });
    } else if (result.error instanceof ExecutionAbortedError) {
      // Only reachable if the engine aborted on its own; stops go through abort().
      this.closeRecord(record, "ABORTED", {});
      recorder.append("ExecutionAborted", { executionAbortedEventDetails: {} });
    } else {
      const inner = result.error instanceof ExecutionError ? result.error.cause : result.error;
      const error = inner instanceof Error ? inner.name : "States.Runtime";
      const cause = inner instanceof Error ? inner.message : String(inner);
      this.closeRecord(record, "FAILED", { error, cause }, failedState(active.failures, error));
      recorder.append("ExecutionFailed", { executionFailedEventDetails: { error, cause } });
    }
  }

  private recordTaskTimeout(active: ActiveExecution, stateName: string, cause: unknown): void {
    const task = active.machine.prepared.tasks.find((candidate) => candidate.name === stateName);
    const invocation = active.invocations.find((open) => open.stateName === stateName && !open.timedOut);
    if (task === undefined || invocation === undefined) return;
    // The invoker's promise may still settle later; its result must not appear in the history.
    invocation.timedOut = true;
    // A callback task's token dies with it: a late SendTask* call is TaskTimedOut.
    if (invocation.token !== undefined) {
      this.rememberTimedOut(invocation.token);
      this.callbacks
        .get(invocation.token)
        ?.settle({ ok: false, failure: new TaskFailure("States.Timeout", "Task timed out") });
    }
    active.recorder.taskTimedOut(task, typeof cause === "string" ? cause : "Task timed out");
  }

  private async runTask(active: ActiveExecution, task: TaskInfo, input: EngineJson): Promise<EngineJson> {
    // The engine logged StateEntered (or StateFailed/StateRetried) synchronously before calling
    // this handler, but the history follower consumes that log asynchronously. Yielding one
    // macrotask lets it catch up, so the Scheduled event lands after TaskStateEntered.
    await new Promise((resolve) => setImmediate(resolve));
    if (active.closed) {
      // The engine retries even after an abort (its retry sleep ends at once): never invoke then.
      throw new TaskFailure(EXECUTION_CLOSED_ERROR, "The execution is no longer running");
    }
    let resource = task.resource;
    let payload: unknown = input;
    if (task.kind === "lambda-invoke") {
      if (!isPlainObject(input) || typeof input.FunctionName !== "string") {
        throw new TaskFailure("States.Runtime", "lambda:invoke requires Parameters.FunctionName");
      }
      resource = input.FunctionName;
      payload = input.Payload ?? {};
    }
    const invocation: Invocation = { stateName: task.name, timedOut: false };
    let callback: Promise<CallbackOutcome> | undefined;
    if (task.callback) {
      // Registered before the invocation: the resource may call back before it returns.
      const token = encodeTaskToken(active.record.executionArn, task.name);
      invocation.token = token;
      callback = this.awaitCallback(active, task, token);
      payload = replaceString(payload, TASK_TOKEN_PLACEHOLDER, token);
      input = replaceString(input, TASK_TOKEN_PLACEHOLDER, token) as EngineJson;
    }
    active.invocations.push(invocation);
    active.recorder.taskScheduled(task, resource, task.kind === "lambda-function" ? payload : input);
    const recordable = () => !invocation.timedOut && !active.closed;
    try {
      const returned = asJson(
        await this.invokeTask({
          resource,
          stateName: task.name,
          input: payload,
          executionArn: active.record.executionArn,
        }),
      );
      const invoked: EngineJson =
        task.kind === "lambda-invoke"
          ? { Payload: returned, StatusCode: 200, ExecutedVersion: "$LATEST" }
          : returned;
      let result = invoked;
      if (callback !== undefined) {
        if (recordable()) active.recorder.taskSubmitted(task, invoked);
        // TimeoutSeconds at the time scale, counted from here: the invocation ran in real time.
        const timeoutSeconds = task.timeoutSeconds;
        const timer =
          timeoutSeconds === undefined || invocation.token === undefined
            ? undefined
            : setTimeout(() => {
                const token = invocation.token as string;
                this.rememberTimedOut(token);
                this.callbacks.get(token)?.settle({
                  ok: false,
                  failure: new TaskFailure("States.Timeout", "Task timed out"),
                  heartbeatTimedOut: true,
                });
              }, scaleSeconds(timeoutSeconds, this.timeScale) * 1000);
        const outcome = await callback;
        clearTimeout(timer);
        if (!outcome.ok && outcome.heartbeatTimedOut === true) {
          if (recordable()) {
            active.recorder.taskTimedOut(task, outcome.failure.message, outcome.failure.name);
          }
          invocation.timedOut = true; // recorded: not a TaskFailed too
        }
        if (!outcome.ok) throw outcome.failure;
        result = outcome.output;
      }
      if (recordable()) active.recorder.taskSucceeded(task, result);
      return result;
    } catch (thrown) {
      const failure = toTaskFailure(thrown);
      if (recordable()) active.recorder.taskFailed(task, failure.name, failure.message);
      throw failure;
    } finally {
      active.invocations.splice(active.invocations.indexOf(invocation), 1);
      // The invocation failed before the callback came: the token dies with the task.
      if (invocation.token !== undefined) {
        this.callbacks.get(invocation.token)?.settle({
          ok: false,
          failure: new TaskFailure(EXECUTION_CLOSED_ERROR, "The task is no longer running"),
        });
      }
    }
  }

  /**
   * Registers a callback task's token and resolves with how the task ended: SendTaskSuccess,
   * SendTaskFailure, HeartbeatSeconds without SendTaskHeartbeat (scaled like waits), or the end
   * of the execution. TimeoutSeconds is the engine's own task timeout (see recordTaskTimeout).
   */
  private awaitCallback(active: ActiveExecution, task: TaskInfo, token: string): Promise<CallbackOutcome> {
    return new Promise<CallbackOutcome>((resolve) => {
      const signal = active.abortController.signal;
      let heartbeatTimer: NodeJS.Timeout | undefined;
      const settle = (outcome: CallbackOutcome) => {
        if (this.callbacks.get(token) !== pending) return;
        this.callbacks.delete(token);
        clearTimeout(heartbeatTimer);
        signal.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      const heartbeat = () => {
        if (task.heartbeatSeconds === undefined) return;
        const seconds = task.heartbeatSeconds;
        clearTimeout(heartbeatTimer);
        heartbeatTimer = setTimeout(() => {
          const cause = `The task sent no heartbeat within its HeartbeatSeconds of ${seconds} seconds.`;
          const failure = new TaskFailure("States.HeartbeatTimeout", cause);
          this.rememberTimedOut(token);
          settle({ ok: false, failure, heartbeatTimedOut: true });
        }, scaleSeconds(seconds, this.timeScale) * 1000);
      };
      const onAbort = () =>
        settle({
          ok: false,
          failure: new TaskFailure(EXECUTION_CLOSED_ERROR, "The execution is no longer running"),
        });
      const pending: PendingCallback = { settle, heartbeat };
      this.callbacks.set(token, pending);
      signal.addEventListener("abort", onAbort, { once: true });
      heartbeat();
    });
  }

  /** Serves a Wait state rewritten into a local task (SecondsPath / Timestamp / TimestampPath). */
  private async runScaledWait(active: ActiveExecution, input: EngineJson): Promise<EngineJson> {
    if (!isPlainObject(input)) throw new TaskFailure("States.Runtime", "invalid local wait parameters");
    let waitMs = 0;
    if ("seconds" in input) {
      const value = input.seconds;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
        throw new TaskFailure(
          "States.Runtime",
          `SecondsPath must select a non-negative integer, got ${jsonText(value)}`,
        );
      }
      waitMs = value * 1000;
    } else {
      const timestamp = typeof input.timestamp === "string" ? Date.parse(input.timestamp) : Number.NaN;
      if (Number.isNaN(timestamp)) {
        throw new TaskFailure("States.Runtime", `Invalid wait timestamp ${jsonText(input.timestamp)}`);
      }
      waitMs = timestamp - Date.now();
    }
    const scaled = Math.min(Math.max(0, waitMs * this.timeScale), MAX_TIMER_SECONDS * 1000);
    await sleep(scaled, active.abortController.signal);
    return (input.input ?? null) as EngineJson;
  }

  private abort(active: ActiveExecution, error: string | undefined, cause: string | undefined): void {
    active.closed = true;
    this.closeRecord(
      active.record,
      "ABORTED",
      {
        ...(error === undefined ? {} : { error }),
        ...(cause === undefined ? {} : { cause }),
      },
      currentStateName(active.record.history),
    );
    active.recorder.append("ExecutionAborted", {
      executionAbortedEventDetails: {
        ...(error === undefined ? {} : { error }),
        ...(cause === undefined ? {} : { cause }),
      },
    });
    active.abortController.abort();
    active.abortEngine();
  }
}
