/**
 * The SFN API subset served by the local service: request validation (members as in the SFN API
 * reference / @aws-sdk/client-sfn), execution names and inputs, ARN lookups, AWS error codes,
 * pagination tokens and the response shapes of the JSON 1.0 protocol (dates as epoch seconds).
 * Running executions is the engine's job (engine.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import * as z from "zod";
import type { ExecutionEngine, ExecutionView, MachineEntry, TaskTokenResult } from "./engine.ts";
import { SfnApiError } from "./errors.ts";
import { historyEventToWire } from "./history.ts";
import { type Operation, parseRequest } from "./protocol.ts";
import { EXECUTION_STATUSES } from "./store.ts";

/** The operations served, by X-Amz-Target name (without the AWSStepFunctions. prefix). */
export type SfnOperationName =
  | "StartExecution"
  | "DescribeExecution"
  | "StopExecution"
  | "GetExecutionHistory"
  | "ListExecutions"
  | "ListStateMachines"
  | "DescribeStateMachine"
  | "SendTaskSuccess"
  | "SendTaskFailure"
  | "SendTaskHeartbeat";

const DEFAULT_PAGE_SIZE = 100;
const MAX_INPUT_BYTES = 256 * 1024;

// --- request schemas ---

/** maxResults 0 means the default page size (100), as in AWS; at most 1000. */
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

const taskTokenSchema = z.object({ taskToken: z.string().min(1).max(2048) });
const sendTaskSuccessSchema = taskTokenSchema.extend({ output: z.string() });
const sendTaskFailureSchema = taskTokenSchema.extend({
  error: z.string().max(256).optional(),
  cause: z.string().max(32768).optional(),
});

// --- pagination tokens ---

function scopeDigest(scope: string): string {
  return createHash("sha256").update(scope).digest("base64url").slice(0, 16);
}

/**
 * Pagination tokens are opaque to clients: base64url JSON of a cursor number. A token that only
 * makes sense for one request (a history page: its execution and direction) also carries a digest
 * of that scope, so reusing it elsewhere is InvalidToken instead of a silently wrong page.
 */
function encodeToken(cursor: number, scope?: string): string {
  const token = scope === undefined ? { c: cursor } : { c: cursor, s: scopeDigest(scope) };
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeToken(token: string | undefined, scope?: string): number | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && "c" in parsed && typeof parsed.c === "number") {
      const tokenScope = "s" in parsed ? parsed.s : undefined;
      if (scope === undefined || tokenScope === scopeDigest(scope)) return parsed.c;
    }
  } catch {
    // fall through to the AWS error below
  }
  throw new SfnApiError("InvalidToken", `Invalid Token: '${token}'`);
}

// --- validation helpers ---

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

/** The execution input: at most 256 KiB of any JSON text (an object, an array, a string, ...), as AWS takes. */
function parseExecutionInput(inputText: string): unknown {
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
  return input;
}

// --- ARN lookups ---

function machineByArn(engine: ExecutionEngine, arn: string): MachineEntry {
  const match = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_.-]+)$/.exec(arn);
  if (match === null) throw new SfnApiError("InvalidArn", `Invalid Arn: '${arn}'`);
  const machine = engine.machine(match[3] ?? "");
  if (machine === undefined || machine.arn !== arn) {
    throw new SfnApiError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
  }
  return machine;
}

/** The execution, or AWS's ExecutionDoesNotExist (InvalidArn for what is no execution ARN). */
function executionByArn(engine: ExecutionEngine, arn: string): ExecutionView {
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
    throw new SfnApiError("InvalidArn", `Invalid Arn: '${arn}'`);
  }
  const record = engine.execution(arn);
  if (record === undefined)
    throw new SfnApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
  return record;
}

// --- operations ---

function startExecution(
  engine: ExecutionEngine,
  body: Record<string, unknown>,
): { executionArn: string; startDate: number } {
  const request = parseRequest(startExecutionSchema, body);
  const machine = machineByArn(engine, request.stateMachineArn);
  const name = request.name ?? randomUUID();
  if (!isValidExecutionName(name)) throw new SfnApiError("InvalidName", `Invalid Name: '${name}'`);
  const inputText = request.input ?? "{}";
  const input = parseExecutionInput(inputText);
  const executionArn = engine.executionArn(machine.name, name);
  const existing = engine.execution(executionArn);
  if (existing !== undefined) {
    // AWS: the same name and input while the first run is RUNNING is an idempotent retry of
    // the same start; anything else reuses a name that is taken.
    if (existing.status === "RUNNING" && existing.input === inputText) {
      return { executionArn, startDate: seconds(existing.startDate) };
    }
    throw new SfnApiError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
  }
  const record = engine.start(machine, name, inputText, input);
  return { executionArn, startDate: seconds(record.startDate) };
}

function describeExecution(engine: ExecutionEngine, body: Record<string, unknown>): Record<string, unknown> {
  const request = parseRequest(describeExecutionSchema, body);
  const record = executionByArn(engine, request.executionArn);
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

function stopExecution(engine: ExecutionEngine, body: Record<string, unknown>): { stopDate: number } {
  const request = parseRequest(stopExecutionSchema, body);
  const record = executionByArn(engine, request.executionArn);
  engine.stop(record.executionArn, request.error, request.cause);
  // Stopping an execution that already closed succeeds without changing it (as AWS answers,
  // unverified in the docs): the caller's goal, a stopped execution, already holds.
  return { stopDate: seconds(record.stopDate ?? Date.now()) };
}

/**
 * Oldest first, or newest first with reverseOrder; pages of maxResults events (default 100)
 * chained by nextToken, in either order. Cursors are event ids, so pages stay consistent while a
 * running execution grows: a forward walk ends with the newest events, a reverse walk never
 * repeats events added after its first page.
 */
function getExecutionHistory(
  engine: ExecutionEngine,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const request = parseRequest(historySchema, body);
  const record = executionByArn(engine, request.executionArn);
  const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
  const reverse = request.reverseOrder === true;
  const scope = `GetExecutionHistory ${record.executionArn} ${reverse ? "reverse" : "forward"}`;
  const after = decodeToken(request.nextToken, scope);
  let events = reverse ? [...record.history].reverse() : record.history;
  if (after !== undefined) events = events.filter((event) => (reverse ? event.id < after : event.id > after));
  const page = events.slice(0, pageSize);
  const last = page.at(-1);
  return {
    events: page.map((event) => historyEventToWire(event, request.includeExecutionData !== false)),
    ...(events.length > pageSize && last !== undefined ? { nextToken: encodeToken(last.id, scope) } : {}),
  };
}

function listExecutions(engine: ExecutionEngine, body: Record<string, unknown>): Record<string, unknown> {
  const request = parseRequest(listExecutionsSchema, body);
  if (request.stateMachineArn === undefined) {
    throw new SfnApiError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN");
  }
  const stateMachineArn = request.stateMachineArn;
  const executions = engine.listExecutions();
  const known = executions.some((record) => record.stateMachineArn === stateMachineArn);
  // Executions persisted for a machine no longer configured stay listable.
  if (!known) machineByArn(engine, stateMachineArn);
  const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
  const after = decodeToken(request.nextToken);
  const matching = executions
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

function listStateMachines(engine: ExecutionEngine, body: Record<string, unknown>): Record<string, unknown> {
  const request = parseRequest(listStateMachinesSchema, body);
  const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
  const offset = decodeToken(request.nextToken) ?? 0;
  const machines = engine.listMachines();
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

function describeStateMachine(
  engine: ExecutionEngine,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const request = parseRequest(describeStateMachineSchema, body);
  const machine = machineByArn(engine, request.stateMachineArn);
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: "ACTIVE",
    definition: JSON.stringify(machine.prepared.original),
    roleArn: engine.roleArn,
    type: "STANDARD",
    creationDate: seconds(machine.creationDate),
    loggingConfiguration: { level: "OFF", includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
}

/** AWS's answer to a SendTask* call whose token leads to no waiting task. */
function checkTaskToken(result: TaskTokenResult, token: string): Record<string, never> {
  if (result === "invalid-token") throw new SfnApiError("InvalidToken", `Invalid Token: '${token}'`);
  if (result === "task-timed-out") throw new SfnApiError("TaskTimedOut", "Task Timed Out");
  if (result === "task-does-not-exist") {
    // A token of a task that already ended (succeeded, failed, timed out, its execution closed).
    throw new SfnApiError("TaskDoesNotExist", "Task Does Not Exist");
  }
  return {};
}

function sendTaskSuccess(engine: ExecutionEngine, body: Record<string, unknown>): Record<string, never> {
  const request = parseRequest(sendTaskSuccessSchema, body);
  if (Buffer.byteLength(request.output) > MAX_INPUT_BYTES) {
    throw new SfnApiError("InvalidOutput", "Output exceeds the maximum size of 262144 bytes");
  }
  let output: unknown;
  try {
    output = JSON.parse(request.output);
  } catch {
    throw new SfnApiError("InvalidOutput", `Invalid Output: '${request.output}'`);
  }
  return checkTaskToken(engine.sendTaskSuccess(request.taskToken, output), request.taskToken);
}

function sendTaskFailure(engine: ExecutionEngine, body: Record<string, unknown>): Record<string, never> {
  const request = parseRequest(sendTaskFailureSchema, body);
  const result = engine.sendTaskFailure(request.taskToken, request.error, request.cause);
  return checkTaskToken(result, request.taskToken);
}

function sendTaskHeartbeat(engine: ExecutionEngine, body: Record<string, unknown>): Record<string, never> {
  const request = parseRequest(taskTokenSchema, body);
  return checkTaskToken(engine.sendTaskHeartbeat(request.taskToken), request.taskToken);
}

/** The SFN operations over an engine, for createJsonProtocolHandler. */
export function createSfnOperations(engine: ExecutionEngine): Readonly<Record<SfnOperationName, Operation>> {
  return {
    StartExecution: (input) => startExecution(engine, input),
    DescribeExecution: (input) => describeExecution(engine, input),
    StopExecution: (input) => stopExecution(engine, input),
    GetExecutionHistory: (input) => getExecutionHistory(engine, input),
    ListExecutions: (input) => listExecutions(engine, input),
    ListStateMachines: (input) => listStateMachines(engine, input),
    DescribeStateMachine: (input) => describeStateMachine(engine, input),
    SendTaskSuccess: (input) => sendTaskSuccess(engine, input),
    SendTaskFailure: (input) => sendTaskFailure(engine, input),
    SendTaskHeartbeat: (input) => sendTaskHeartbeat(engine, input),
  };
}
