/**
 * The local Step Functions service: runs executions with aws-local-stepfunctions, keeps their
 * status and AWS-shaped history, and serves the SFN API subset over the JSON 1.0 protocol.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
} from "aws-local-stepfunctions";
import * as z from "zod";
import {
  MAX_TIMER_SECONDS,
  type PreparedDefinition,
  prepareDefinition,
  type TaskInfo,
} from "./definition.ts";
import {
  EXECUTION_CLOSED_ERROR,
  LOCAL_RUNTIME_RESTARTED_ERROR,
  LOCAL_RUNTIME_STOPPED_ERROR,
  SfnApiError,
  TaskFailure,
  WaitForExecutionTimeoutError,
} from "./errors.ts";
import { type EngineEvent, HistoryRecorder, historyEventToWire, jsonText } from "./history.ts";
import { createJsonProtocolHandler, type Operation, parseRequest } from "./protocol.ts";
import {
  EXECUTION_STATUSES,
  type ExecutionRecord,
  type ExecutionStatus,
  ExecutionStore,
  loadExecutions,
} from "./store.ts";

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

export interface SfnServiceOptions {
  machines: LocalStateMachine[];
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

/** DescribeExecution-shaped data, with dates as Date like the SDK returns them. */
export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface SfnService {
  /** arn:aws:states:<region>:<account>:stateMachine:<name> */
  stateMachineArn(name: string): string;
  /** The JSON-protocol endpoint, usable inside another server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Aborts running executions (recorded as ABORTED, castflow.LocalRuntimeStopped), saves, stops the server. */
  close(): Promise<void>;
  /** Resolves when the execution is no longer RUNNING; returns DescribeExecution-shaped data. */
  waitForExecution(executionArn: string, timeoutMs?: number): Promise<ExecutionDescription>;
}

type TaskHandlers = NonNullable<NonNullable<RunOptions["overrides"]>["taskResourceLocalHandlers"]>;
type EngineJson = Awaited<ReturnType<TaskHandlers[string]>>;

interface MachineEntry {
  readonly name: string;
  readonly arn: string;
  readonly prepared: PreparedDefinition;
  readonly engine: StateMachine;
  readonly creationDate: number;
}

interface Invocation {
  readonly stateName: string;
  timedOut: boolean;
}

/** Runtime side of a RUNNING execution. */
interface ActiveExecution {
  readonly record: ExecutionRecord;
  readonly machine: MachineEntry;
  readonly recorder: HistoryRecorder;
  /** Set once the execution closed (stopped, timed out, finished): no more events, no more tasks. */
  closed: boolean;
  readonly invocations: Invocation[];
  /** Cancels local waits (rewritten Wait states); the engine has its own abort. */
  readonly abortController: AbortController;
  abortEngine: () => void;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_INPUT_BYTES = 256 * 1024;
const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

// --- request schemas (members as in the SFN API reference / @aws-sdk/client-sfn) ---

const pageMembers = {
  maxResults: z.number().int().min(0).max(1000).optional(),
  nextToken: z.string().min(1).max(1024).optional(),
};
const startExecutionSchema = z.object({
  stateMachineArn: z.string().min(1).max(256),
  name: z.string().optional(),
  input: z.string().optional(),
  traceHeader: z.string().optional(),
});
const executionArnSchema = z.object({ executionArn: z.string().min(1).max(256) });
const describeExecutionSchema = executionArnSchema.extend({
  includedData: z.enum(["ALL_DATA", "METADATA_ONLY"]).optional(),
});
const stopExecutionSchema = executionArnSchema.extend({
  error: z.string().max(256).optional(),
  cause: z.string().max(32768).optional(),
});
const historySchema = executionArnSchema.extend({
  ...pageMembers,
  reverseOrder: z.boolean().optional(),
  includeExecutionData: z.boolean().optional(),
});
const listExecutionsSchema = z.object({
  stateMachineArn: z.string().min(1).max(256).optional(),
  mapRunArn: z.string().optional(),
  statusFilter: z.enum([...EXECUTION_STATUSES, "PENDING_REDRIVE"]).optional(),
  redriveFilter: z.enum(["REDRIVEN", "NOT_REDRIVEN"]).optional(),
  ...pageMembers,
});
const listStateMachinesSchema = z.object(pageMembers);
const describeStateMachineSchema = z.object({
  stateMachineArn: z.string().min(1).max(256),
  includedData: z.enum(["ALL_DATA", "METADATA_ONLY"]).optional(),
});

/** Pagination tokens are opaque to clients: base64url JSON of a cursor number. */
function encodeToken(cursor: number): string {
  return Buffer.from(JSON.stringify({ c: cursor })).toString("base64url");
}

function decodeToken(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && "c" in parsed && typeof parsed.c === "number") {
      return parsed.c;
    }
  } catch {
    // fall through to the AWS error below
  }
  throw new SfnApiError("InvalidToken", `Invalid Token: '${token}'`);
}

function seconds(epochMs: number): number {
  return epochMs / 1000;
}

/**
 * AWS execution names: 1-80 characters, no white space, brackets, wildcards, the special
 * characters " # % \ ^ | ~ ` $ & , ; : / or control characters (U+0000-001F, U+007F-009F).
 */
function isValidExecutionName(name: string): boolean {
  if (name.length < 1 || name.length > 80) return false;
  for (const char of name) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return false;
    if (/\s/.test(char) || `<>{}[]?*"#%\\^|~\`$&,;:/`.includes(char)) return false;
  }
  return true;
}

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

class LocalSfnService implements SfnService {
  private readonly region: string;
  private readonly accountId: string;
  private readonly timeScale: number;
  private readonly invokeTask: TaskInvoker;
  private readonly roleArn: string;
  private readonly machines = new Map<string, MachineEntry>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly active = new Map<string, ActiveExecution>();
  private readonly closeListeners = new Map<string, Set<() => void>>();
  private readonly store: ExecutionStore | undefined;
  private nextSeq = 1;
  private server: Server | undefined;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;

  constructor(options: SfnServiceOptions) {
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
      this.loadPersisted(loadExecutions(options.statePath));
      this.store = new ExecutionStore(options.statePath, () => [...this.executions.values()]);
      this.store.scheduleSave();
    }

    const operations: Record<string, Operation> = {
      StartExecution: (input) => this.startExecution(input),
      DescribeExecution: (input) => this.describeExecution(input),
      StopExecution: (input) => this.stopExecution(input),
      GetExecutionHistory: (input) => this.getExecutionHistory(input),
      ListExecutions: (input) => this.listExecutions(input),
      ListStateMachines: (input) => this.listStateMachines(input),
      DescribeStateMachine: (input) => this.describeStateMachine(input),
    };
    this.handle = createJsonProtocolHandler(operations);
  }

  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  private executionArn(machineName: string, name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:execution:${machineName}:${name}`;
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<{ url: string; port: number }> {
    if (this.server !== undefined) throw new Error("Local Step Functions service is already listening");
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return { url: `http://${urlHost}:${address.port}`, port: address.port };
  }

  async close(): Promise<void> {
    for (const active of [...this.active.values()]) {
      this.abort(
        active,
        LOCAL_RUNTIME_STOPPED_ERROR,
        "The local Step Functions runtime was shut down while this execution was running; local executions cannot be resumed.",
      );
    }
    await this.store?.flush();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      // SDK clients keep connections alive; without this, close() would wait for them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async waitForExecution(
    executionArn: string,
    timeoutMs = DEFAULT_WAIT_TIMEOUT_MS,
  ): Promise<ExecutionDescription> {
    const record = this.executions.get(executionArn);
    if (record === undefined) {
      throw new SfnApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${executionArn}'`);
    }
    if (record.status === "RUNNING") {
      await new Promise<void>((resolve, reject) => {
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
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: new Date(record.startDate),
      input: record.input,
      ...(record.stopDate === undefined ? {} : { stopDate: new Date(record.stopDate) }),
      ...(record.output === undefined ? {} : { output: record.output }),
      ...(record.error === undefined ? {} : { error: record.error }),
      ...(record.cause === undefined ? {} : { cause: record.cause }),
    };
  }

  // --- persistence ---

  private loadPersisted(records: ExecutionRecord[]): void {
    for (const record of records) {
      this.executions.set(record.executionArn, record);
      this.nextSeq = Math.max(this.nextSeq, record.seq + 1);
      if (record.status === "RUNNING") {
        // The engine's in-memory state died with the previous process: nothing to resume from.
        const cause =
          "The local Step Functions runtime restarted while this execution was running; local executions cannot be resumed.";
        const recorder = new HistoryRecorder(record.history, new Map(), this.region, () => {});
        this.closeRecord(record, "ABORTED", { error: LOCAL_RUNTIME_RESTARTED_ERROR, cause });
        recorder.append("ExecutionAborted", {
          executionAbortedEventDetails: { error: LOCAL_RUNTIME_RESTARTED_ERROR, cause },
        });
      }
    }
  }

  private changed(): void {
    this.store?.scheduleSave();
  }

  // --- executions ---

  private closeRecord(
    record: ExecutionRecord,
    status: Exclude<ExecutionStatus, "RUNNING">,
    result: { output?: string; error?: string; cause?: string },
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
      this.closeRecord(record, "TIMED_OUT", { error, cause });
      recorder.append("ExecutionTimedOut", { executionTimedOutEventDetails: { error, cause } });
    } else if (result.error instanceof ExecutionAbortedError) {
      // Only reachable if the engine aborted on its own; stops go through abort().
      this.closeRecord(record, "ABORTED", {});
      recorder.append("ExecutionAborted", { executionAbortedEventDetails: {} });
    } else {
      const inner = result.error instanceof ExecutionError ? result.error.cause : result.error;
      const error = inner instanceof Error ? inner.name : "States.Runtime";
      const cause = inner instanceof Error ? inner.message : String(inner);
      this.closeRecord(record, "FAILED", { error, cause });
      recorder.append("ExecutionFailed", { executionFailedEventDetails: { error, cause } });
    }
  }

  private recordTaskTimeout(active: ActiveExecution, stateName: string, cause: unknown): void {
    const task = active.machine.prepared.tasks.find((candidate) => candidate.name === stateName);
    const invocation = active.invocations.find((open) => open.stateName === stateName && !open.timedOut);
    if (task === undefined || invocation === undefined) return;
    // The invoker's promise may still settle later; its result must not appear in the history.
    invocation.timedOut = true;
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
      const result: EngineJson =
        task.kind === "lambda-invoke"
          ? { Payload: returned, StatusCode: 200, ExecutedVersion: "$LATEST" }
          : returned;
      if (recordable()) active.recorder.taskSucceeded(task, result);
      return result;
    } catch (thrown) {
      const failure = toTaskFailure(thrown);
      if (recordable()) active.recorder.taskFailed(task, failure.name, failure.message);
      throw failure;
    } finally {
      active.invocations.splice(active.invocations.indexOf(invocation), 1);
    }
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
    this.closeRecord(active.record, "ABORTED", {
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    });
    active.recorder.append("ExecutionAborted", {
      executionAbortedEventDetails: {
        ...(error === undefined ? {} : { error }),
        ...(cause === undefined ? {} : { cause }),
      },
    });
    active.abortController.abort();
    active.abortEngine();
  }

  // --- ARN lookups ---

  private machineByArn(arn: string): MachineEntry {
    const match = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_.-]+)$/.exec(arn);
    if (match === null) throw new SfnApiError("InvalidArn", `Invalid Arn: '${arn}'`);
    const machine = this.machines.get(match[3] ?? "");
    if (machine === undefined || machine.arn !== arn) {
      throw new SfnApiError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    }
    return machine;
  }

  private executionByArn(arn: string): ExecutionRecord {
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
      throw new SfnApiError("InvalidArn", `Invalid Arn: '${arn}'`);
    }
    const record = this.executions.get(arn);
    if (record === undefined)
      throw new SfnApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  // --- operations ---

  private startExecution(body: Record<string, unknown>): { executionArn: string; startDate: number } {
    const request = parseRequest(startExecutionSchema, body);
    const machine = this.machineByArn(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    if (!isValidExecutionName(name)) throw new SfnApiError("InvalidName", `Invalid Name: '${name}'`);
    const inputText = request.input ?? "{}";
    if (Buffer.byteLength(inputText) > MAX_INPUT_BYTES) {
      throw new SfnApiError(
        "InvalidExecutionInput",
        "Execution input exceeds the maximum size of 262144 bytes",
      );
    }
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch {
      throw new SfnApiError("InvalidExecutionInput", `Invalid State Machine Execution Input: '${inputText}'`);
    }
    if (!isPlainObject(input)) {
      throw new SfnApiError("InvalidExecutionInput", "Execution input must be a JSON object");
    }
    const executionArn = this.executionArn(machine.name, name);
    const existing = this.executions.get(executionArn);
    if (existing !== undefined) {
      // AWS: the same name and input while the first run is RUNNING is an idempotent retry of
      // the same start; anything else reuses a name that is taken.
      if (existing.status === "RUNNING" && existing.input === inputText) {
        return { executionArn, startDate: seconds(existing.startDate) };
      }
      throw new SfnApiError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
    }
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
    return { executionArn, startDate: seconds(record.startDate) };
  }

  private describeExecution(body: Record<string, unknown>): Record<string, unknown> {
    const request = parseRequest(describeExecutionSchema, body);
    const record = this.executionByArn(request.executionArn);
    const withData = request.includedData !== "METADATA_ONLY";
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: seconds(record.startDate),
      ...(record.stopDate === undefined ? {} : { stopDate: seconds(record.stopDate) }),
      ...(withData ? { input: record.input, inputDetails: { included: true } } : {}),
      ...(withData && record.output !== undefined
        ? { output: record.output, outputDetails: { included: true } }
        : {}),
      ...(record.error === undefined ? {} : { error: record.error }),
      ...(record.cause === undefined ? {} : { cause: record.cause }),
    };
  }

  private stopExecution(body: Record<string, unknown>): { stopDate: number } {
    const request = parseRequest(stopExecutionSchema, body);
    const record = this.executionByArn(request.executionArn);
    const active = this.active.get(record.executionArn);
    if (record.status === "RUNNING" && active !== undefined) {
      this.abort(active, request.error, request.cause);
    }
    // Stopping an execution that already closed succeeds without changing it (as AWS answers,
    // unverified in the docs): the caller's goal, a stopped execution, already holds.
    return { stopDate: seconds(record.stopDate ?? Date.now()) };
  }

  private getExecutionHistory(body: Record<string, unknown>): Record<string, unknown> {
    const request = parseRequest(historySchema, body);
    const record = this.executionByArn(request.executionArn);
    const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
    const after = decodeToken(request.nextToken);
    const reverse = request.reverseOrder === true;
    // Cursors are event ids, so pages stay consistent while a running execution grows.
    let events = reverse ? [...record.history].reverse() : record.history;
    if (after !== undefined)
      events = events.filter((event) => (reverse ? event.id < after : event.id > after));
    const page = events.slice(0, pageSize);
    const last = page.at(-1);
    return {
      events: page.map((event) => historyEventToWire(event, request.includeExecutionData !== false)),
      ...(events.length > pageSize && last !== undefined ? { nextToken: encodeToken(last.id) } : {}),
    };
  }

  private listExecutions(body: Record<string, unknown>): Record<string, unknown> {
    const request = parseRequest(listExecutionsSchema, body);
    if (request.stateMachineArn === undefined) {
      throw new SfnApiError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN");
    }
    const stateMachineArn = request.stateMachineArn;
    const known = [...this.executions.values()].some((record) => record.stateMachineArn === stateMachineArn);
    // Executions persisted for a machine no longer configured stay listable.
    if (!known) this.machineByArn(stateMachineArn);
    const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
    const after = decodeToken(request.nextToken);
    const matching = [...this.executions.values()]
      .filter((record) => record.stateMachineArn === stateMachineArn)
      .filter((record) => request.statusFilter === undefined || record.status === request.statusFilter)
      .filter((record) => after === undefined || record.seq < after)
      .sort((a, b) => b.seq - a.seq);
    const page = matching.slice(0, pageSize);
    const last = page.at(-1);
    return {
      executions: page.map((record) => ({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: seconds(record.startDate),
        ...(record.stopDate === undefined ? {} : { stopDate: seconds(record.stopDate) }),
      })),
      ...(matching.length > pageSize && last !== undefined ? { nextToken: encodeToken(last.seq) } : {}),
    };
  }

  private listStateMachines(body: Record<string, unknown>): Record<string, unknown> {
    const request = parseRequest(listStateMachinesSchema, body);
    const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
    const offset = decodeToken(request.nextToken) ?? 0;
    const machines = [...this.machines.values()];
    const page = machines.slice(offset, offset + pageSize);
    return {
      stateMachines: page.map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: "STANDARD",
        creationDate: seconds(machine.creationDate),
      })),
      ...(offset + pageSize < machines.length ? { nextToken: encodeToken(offset + pageSize) } : {}),
    };
  }

  private describeStateMachine(body: Record<string, unknown>): Record<string, unknown> {
    const request = parseRequest(describeStateMachineSchema, body);
    const machine = this.machineByArn(request.stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: "ACTIVE",
      definition: JSON.stringify(machine.prepared.original),
      roleArn: this.roleArn,
      type: "STANDARD",
      creationDate: seconds(machine.creationDate),
      loggingConfiguration: { level: "OFF", includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }
}

export function createSfnService(options: SfnServiceOptions): SfnService {
  return new LocalSfnService(options);
}
