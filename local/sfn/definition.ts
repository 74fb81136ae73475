/**
 * Everything done to a definition before it runs: refusing what the engine would silently
 * ignore, validation, discovery of Task states (by name, also inside Parallel/Map) and the
 * time-scaled copy the engine actually executes.
 */
import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { InvalidDefinitionError, UnsupportedDefinitionError } from "./errors.ts";

type JsonObject = Record<string, unknown>;

export type StateType = "Task" | "Parallel" | "Map" | "Pass" | "Wait" | "Choice" | "Succeed" | "Fail";

/** What the history mapper needs to know about a state, looked up by state name. */
export interface StateInfo {
  readonly name: string;
  readonly type: StateType;
  readonly inputPath?: string;
  readonly itemsPath?: string;
}

export type TaskKind =
  /** `arn:aws:states:::lambda:invoke`: function in Parameters.FunctionName, result wrapped in {Payload,...}. */
  | "lambda-invoke"
  /** A plain Lambda function ARN as Resource: the result is the payload itself. */
  | "lambda-function"
  /** Any other resource (service integrations, activities): invoked with the resource as is. */
  | "integration";

export interface TaskInfo {
  readonly name: string;
  readonly resource: string;
  readonly kind: TaskKind;
  /** The TimeoutSeconds the task runs with (the history shows it); undefined when taken from a path. */
  readonly timeoutSeconds?: number;
  /**
   * A callback task (Resource ends in `.waitForTaskToken`): after invoking its resource it waits
   * for SendTaskSuccess / SendTaskFailure with the `$$.Task.Token` it was given.
   */
  readonly callback: boolean;
  /** The state's HeartbeatSeconds (unscaled), if any. */
  readonly heartbeatSeconds?: number;
}

/** A Wait state that was rewritten into a local Task so its path/timestamp duration can be scaled. */
export interface RewrittenWait {
  readonly name: string;
}

export interface PreparedDefinition {
  readonly original: JsonObject;
  /** The copy the engine runs: scaled waits and retries, explicit task timeouts. */
  readonly runnable: StateMachineDefinition;
  readonly states: ReadonlyMap<string, StateInfo>;
  readonly tasks: readonly TaskInfo[];
  readonly rewrittenWaits: readonly RewrittenWait[];
}

/**
 * Node's setTimeout fires after 1 ms when given more than 2^31-1 ms (and warns), so a long wait
 * or timeout would end at once. Every duration handed to the engine is capped below that
 * (~24.8 days), which is far beyond any local run.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Resource used for Wait states rewritten into local tasks; never reaches the invoker. */
export const LOCAL_WAIT_RESOURCE = "arn:aws:states:::castflow:wait";

const LAMBDA_INVOKE_RESOURCE = "arn:aws:states:::lambda:invoke";
/** The service-integration pattern whose tasks wait for SendTaskSuccess / SendTaskFailure. */
export const CALLBACK_SUFFIX = ".waitForTaskToken";

export function isCallbackResource(resource: string): boolean {
  return resource.endsWith(CALLBACK_SUFFIX);
}
const LAMBDA_FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?$/;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The nested state machines of a Parallel (Branches) or Map (ItemProcessor / Iterator) state. */
function childMachines(state: JsonObject): JsonObject[] {
  const children: JsonObject[] = [];
  if (Array.isArray(state.Branches)) children.push(...state.Branches.filter(isObject));
  if (isObject(state.ItemProcessor)) children.push(state.ItemProcessor);
  if (isObject(state.Iterator)) children.push(state.Iterator);
  return children;
}

/** Calls `visit` for every state of the machine, nested ones included, with a readable location. */
function forEachState(
  machine: JsonObject,
  visit: (name: string, state: JsonObject, location: string) => void,
  location = "",
): void {
  if (!isObject(machine.States)) return;
  for (const [name, state] of Object.entries(machine.States)) {
    if (!isObject(state)) continue;
    const here = `${location}States.${name}`;
    visit(name, state, here);
    childMachines(state).forEach((child, index) => {
      const key =
        Array.isArray(state.Branches) && state.Branches.includes(child)
          ? `Branches[${index}]`
          : "ItemProcessor";
      forEachState(child, visit, `${here}.${key}.`);
    });
  }
}

const UNSUPPORTED_STATE_FIELDS = ["Arguments", "Output", "Assign"] as const;

/** Lists every use of JSONata, Arguments, Output or Assign; the engine would ignore all of them. */
export function findUnsupportedFeatures(definition: JsonObject): string[] {
  const found: string[] = [];
  const checkQueryLanguage = (machineOrState: JsonObject, location: string) => {
    if (machineOrState.QueryLanguage !== undefined && machineOrState.QueryLanguage !== "JSONPath") {
      found.push(`${location || "top level"}: QueryLanguage ${JSON.stringify(machineOrState.QueryLanguage)}`);
    }
  };
  checkQueryLanguage(definition, "");
  forEachState(definition, (_name, state, location) => {
    checkQueryLanguage(state, location);
    for (const field of UNSUPPORTED_STATE_FIELDS) {
      if (field in state) found.push(`${location}: ${field}`);
    }
    for (const child of childMachines(state)) checkQueryLanguage(child, `${location} (nested machine)`);
  });
  return found;
}

function taskKind(resource: string): TaskKind {
  if (resource === LAMBDA_INVOKE_RESOURCE || resource === `${LAMBDA_INVOKE_RESOURCE}${CALLBACK_SUFFIX}`)
    return "lambda-invoke";
  if (LAMBDA_FUNCTION_ARN.test(resource)) return "lambda-function";
  return "integration";
}

/** Seconds of the definition as the local runtime waits them: at the time scale, within a timer's limit. */
export function scaleSeconds(seconds: number, timeScale: number): number {
  return Math.min(seconds * timeScale, MAX_TIMER_SECONDS);
}

/**
 * Turns a Wait whose duration is only known at run time (SecondsPath, Timestamp, TimestampPath)
 * into a Task served by a local handler. The engine's `waitTimeOverrides` are fixed numbers per
 * state and cannot depend on the input, so this is the only way to scale such waits. The
 * parameters carry the effective input through, so the output equals the Wait's.
 */
function waitAsLocalTask(state: JsonObject): JsonObject {
  const parameters: JsonObject = { "input.$": "$" };
  if (typeof state.SecondsPath === "string") parameters["seconds.$"] = state.SecondsPath;
  else if (typeof state.TimestampPath === "string") parameters["timestamp.$"] = state.TimestampPath;
  else parameters.timestamp = state.Timestamp;
  const task: JsonObject = {
    Type: "Task",
    Resource: LOCAL_WAIT_RESOURCE,
    Parameters: parameters,
    TimeoutSeconds: MAX_TIMER_SECONDS,
  };
  for (const field of ["Comment", "InputPath", "OutputPath", "Next", "End"]) {
    if (field in state) task[field] = state[field];
  }
  return task;
}

/** Builds the copy the engine runs. Mutates `copy` (a structuredClone owned by the caller). */
function makeRunnable(copy: JsonObject, timeScale: number, rewrittenWaits: RewrittenWait[]): void {
  if (typeof copy.TimeoutSeconds === "number") {
    // The execution timeout is not scaled: tasks run in real time, so a scaled execution
    // timeout would fire during ordinary task work.
    copy.TimeoutSeconds = Math.min(copy.TimeoutSeconds, MAX_TIMER_SECONDS);
  }
  const rewrites: Array<[JsonObject, string, JsonObject]> = [];
  const visitMachine = (machine: JsonObject) => {
    if (!isObject(machine.States)) return;
    const states = machine.States;
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state)) continue;
      if (Array.isArray(state.Retry) && timeScale !== 1) {
        for (const retrier of state.Retry) {
          if (!isObject(retrier)) continue;
          // The engine defaults IntervalSeconds to 1: make it explicit so it is scaled too.
          const interval = typeof retrier.IntervalSeconds === "number" ? retrier.IntervalSeconds : 1;
          retrier.IntervalSeconds = scaleSeconds(interval, timeScale);
          if (typeof retrier.MaxDelaySeconds === "number") {
            retrier.MaxDelaySeconds = scaleSeconds(retrier.MaxDelaySeconds, timeScale);
          }
        }
      }
      if (state.Type === "Task") {
        // The engine applies a 60 s default task timeout; AWS has none (a task can run for the
        // execution's whole life), so give tasks without one the longest timer possible.
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
          state.TimeoutSeconds = MAX_TIMER_SECONDS;
        } else if (typeof state.TimeoutSeconds === "number") {
          // A callback task's time is mostly spent waiting for someone else's SendTask* call,
          // which follows the time scale like a Wait, while its invocation runs in real time:
          // the engine times it itself, from the end of the invocation (engine.ts, runTask).
          const callback = typeof state.Resource === "string" && isCallbackResource(state.Resource);
          state.TimeoutSeconds = callback
            ? MAX_TIMER_SECONDS
            : Math.min(state.TimeoutSeconds, MAX_TIMER_SECONDS);
        }
      }
      if (state.Type === "Wait") {
        if (typeof state.Seconds === "number") {
          state.Seconds = scaleSeconds(state.Seconds, timeScale);
        } else if (timeScale !== 1) {
          rewrites.push([states, name, waitAsLocalTask(state)]);
          rewrittenWaits.push({ name });
        }
      }
      for (const child of childMachines(state)) visitMachine(child);
    }
  };
  visitMachine(copy);
  for (const [states, name, task] of rewrites) states[name] = task;
}

/**
 * Validates a definition once and prepares everything an execution needs.
 * Throws UnsupportedDefinitionError / InvalidDefinitionError with the machine name in the message.
 */
export function prepareDefinition(
  machineName: string,
  definition: Record<string, unknown>,
  timeScale: number,
): PreparedDefinition {
  const unsupported = findUnsupportedFeatures(definition);
  if (unsupported.length > 0) throw new UnsupportedDefinitionError(machineName, unsupported);

  try {
    // The engine validates with asl-validator, which mutates its input: validate a clone.
    new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition);
  } catch (error) {
    throw new InvalidDefinitionError(machineName, error instanceof Error ? error.message : String(error));
  }

  const states = new Map<string, StateInfo>();
  const tasks: TaskInfo[] = [];
  const duplicates: string[] = [];
  forEachState(definition, (name, state) => {
    // Task handlers, wait overrides and history lookups are all keyed by state name, as in
    // AWS where names are unique across the whole machine.
    if (states.has(name)) duplicates.push(name);
    const info: StateInfo = {
      name,
      type: state.Type as StateType,
      ...(typeof state.InputPath === "string" ? { inputPath: state.InputPath } : {}),
      ...(typeof state.ItemsPath === "string" ? { itemsPath: state.ItemsPath } : {}),
    };
    states.set(name, info);
    if (state.Type === "Task" && typeof state.Resource === "string") {
      const timeout =
        typeof state.TimeoutSeconds === "number"
          ? state.TimeoutSeconds
          : state.TimeoutSecondsPath === undefined
            ? MAX_TIMER_SECONDS
            : undefined;
      tasks.push({
        name,
        resource: state.Resource,
        kind: taskKind(state.Resource),
        ...(timeout === undefined ? {} : { timeoutSeconds: timeout }),
        callback: isCallbackResource(state.Resource),
        ...(typeof state.HeartbeatSeconds === "number" ? { heartbeatSeconds: state.HeartbeatSeconds } : {}),
      });
    }
  });
  if (duplicates.length > 0) {
    throw new InvalidDefinitionError(
      machineName,
      `state names must be unique, repeated: ${duplicates.join(", ")}`,
    );
  }

  const copy = structuredClone(definition);
  const rewrittenWaits: RewrittenWait[] = [];
  makeRunnable(copy, timeScale, rewrittenWaits);
  return {
    original: structuredClone(definition),
    runnable: copy as unknown as StateMachineDefinition,
    states,
    tasks,
    rewrittenWaits,
  };
}
