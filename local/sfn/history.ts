/**
 * Execution history in AWS's HistoryEvent shape, built from aws-local-stepfunctions' event logs
 * plus the task events the service records itself when it invokes a task.
 */
import type { HistoryEventType } from "@aws-sdk/client-sfn";
import type { StateMachine } from "aws-local-stepfunctions";
import type { StateInfo, TaskInfo } from "./definition.ts";

/**
 * One history event as stored: AWS's HistoryEvent with the timestamp in epoch milliseconds.
 * Details live under AWS's member names (stateEnteredEventDetails, ...).
 */
export interface HistoryEventRecord {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: HistoryEventType;
  [details: `${string}EventDetails`]: Record<string, unknown> | undefined;
}

type EngineRun = ReturnType<StateMachine["run"]>;
/** The engine does not export its EventLog type; derive it from `run()`. */
export type EngineEvent = EngineRun["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Members that carry execution data and are hidden when `includeExecutionData` is false. */
const DATA_MEMBERS = new Set(["input", "inputDetails", "output", "outputDetails", "parameters"]);

/** Converts a stored event to the JSON protocol's wire form (timestamps are epoch seconds). */
export function historyEventToWire(
  event: HistoryEventRecord,
  includeExecutionData: boolean,
): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === "timestamp") {
      wire.timestamp = event.timestamp / 1000;
    } else if (key.endsWith("EventDetails") && value !== undefined && !includeExecutionData) {
      wire[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).filter(([member]) => !DATA_MEMBERS.has(member)),
      );
    } else {
      wire[key] = value;
    }
  }
  return wire;
}

/** Minimal structural view of a history event, satisfied by the SDK's HistoryEvent and by HistoryEventRecord. */
export interface HistoryEventLike {
  readonly id?: number | undefined;
  readonly type?: string | undefined;
  readonly stateEnteredEventDetails?: { readonly name?: string | undefined } | undefined;
  readonly stateExitedEventDetails?: { readonly name?: string | undefined } | undefined;
}

/**
 * The name of the most recently entered state that has not exited yet (innermost for nested
 * Parallel/Map states), or undefined. Accepts events in any order when they carry ids.
 *
 * When a state exits, every state entered after it that is still open must have been nested in
 * it (a branch state that failed, an aborted iteration), so those are closed with it.
 */
export function currentStateName(history: readonly HistoryEventLike[]): string | undefined {
  const events = history.every((event) => typeof event.id === "number")
    ? [...history].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))
    : history;
  const open: string[] = [];
  for (const event of events) {
    const type = event.type ?? "";
    if (type.endsWith("StateEntered")) {
      const name = event.stateEnteredEventDetails?.name;
      if (name !== undefined) open.push(name);
    } else if (type.endsWith("StateExited")) {
      const name = event.stateExitedEventDetails?.name;
      const index = name === undefined ? -1 : open.lastIndexOf(name);
      if (index >= 0) open.length = index;
    }
  }
  return open.at(-1);
}

/** Splits a service-integration ARN (`arn:aws:states:::lambda:invoke`) into AWS's resourceType/resource. */
export function integrationParts(resource: string): { resourceType: string; resource: string } {
  const match = /^arn:aws[a-z-]*:states:::(.+):([^:]+)$/.exec(resource);
  if (match?.[1] !== undefined && match[2] !== undefined)
    return { resourceType: match[1], resource: match[2] };
  return { resourceType: "unknown", resource };
}

/** Simple JSONPath (`$`, `$.a.b`, `$['a']`) reader used only to report a Map's item count. */
function readSimplePath(value: unknown, path: string | undefined): unknown {
  if (path === undefined || path === "$") return value;
  if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path)) return undefined;
  let current = value;
  for (const key of path.slice(2).split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Appends AWS-shaped events to an execution's history. `isOpen` says whether events may still be
 * recorded: once an execution was stopped or timed out, late engine events are dropped, as AWS
 * records nothing after the closing event.
 */
export class HistoryRecorder {
  private readonly failedStates = new Set<string>();

  constructor(
    private readonly history: HistoryEventRecord[],
    private readonly states: ReadonlyMap<string, StateInfo>,
    private readonly region: string,
    private readonly onChange: () => void,
  ) {}

  append(
    type: HistoryEventType,
    details?: Record<string, Record<string, unknown>>,
    timestamp = Date.now(),
  ): void {
    const last = this.history.at(-1);
    const id = (last?.id ?? 0) + 1;
    this.history.push({ id, previousEventId: id - 1, timestamp, type, ...details });
    this.onChange();
  }

  // Task events are recorded by the service when it really invokes the task: the engine's log
  // has no such events, and a retry is only visible as a new invocation.

  taskScheduled(task: TaskInfo, resource: string, input: unknown): void {
    if (task.kind === "lambda-function") {
      this.append("LambdaFunctionScheduled", {
        lambdaFunctionScheduledEventDetails: {
          resource,
          input: jsonText(input),
          inputDetails: { truncated: false },
          ...(task.timeoutSeconds === undefined ? {} : { timeoutInSeconds: task.timeoutSeconds }),
        },
      });
      this.append("LambdaFunctionStarted");
      return;
    }
    const parts = integrationParts(task.resource);
    this.append("TaskScheduled", {
      taskScheduledEventDetails: {
        ...parts,
        region: this.region,
        parameters: jsonText(input),
        ...(task.timeoutSeconds === undefined ? {} : { timeoutInSeconds: task.timeoutSeconds }),
        ...(task.heartbeatSeconds === undefined ? {} : { heartbeatInSeconds: task.heartbeatSeconds }),
      },
    });
    this.append("TaskStarted", { taskStartedEventDetails: parts });
  }

  /** A callback task's resource accepted the request; the task now waits for its token. */
  taskSubmitted(task: TaskInfo, output: unknown): void {
    this.append("TaskSubmitted", {
      taskSubmittedEventDetails: {
        ...integrationParts(task.resource),
        output: jsonText(output),
        outputDetails: { truncated: false },
      },
    });
  }

  taskSucceeded(task: TaskInfo, output: unknown): void {
    if (task.kind === "lambda-function") {
      this.append("LambdaFunctionSucceeded", {
        lambdaFunctionSucceededEventDetails: {
          output: jsonText(output),
          outputDetails: { truncated: false },
        },
      });
      return;
    }
    this.append("TaskSucceeded", {
      taskSucceededEventDetails: {
        ...integrationParts(task.resource),
        output: jsonText(output),
        outputDetails: { truncated: false },
      },
    });
  }

  taskFailed(task: TaskInfo, error: string, cause: string): void {
    if (task.kind === "lambda-function") {
      this.append("LambdaFunctionFailed", { lambdaFunctionFailedEventDetails: { error, cause } });
      return;
    }
    this.append("TaskFailed", {
      taskFailedEventDetails: { ...integrationParts(task.resource), error, cause },
    });
  }

  /** `error` is States.Timeout (TimeoutSeconds) or States.HeartbeatTimeout (HeartbeatSeconds). */
  taskTimedOut(task: TaskInfo, cause: string, error = "States.Timeout"): void {
    if (task.kind === "lambda-function") {
      this.append("LambdaFunctionTimedOut", { lambdaFunctionTimedOutEventDetails: { error, cause } });
      return;
    }
    this.append("TaskTimedOut", {
      taskTimedOutEventDetails: { ...integrationParts(task.resource), error, cause },
    });
  }

  /** Maps one engine event. Execution-level events are recorded by the service itself. */
  onEngineEvent(event: EngineEvent): void {
    switch (event.type) {
      case "StateEntered": {
        const type = this.stateType(event.state.name, event.state.type);
        this.append(
          `${type}StateEntered` as HistoryEventType,
          {
            stateEnteredEventDetails: {
              name: event.state.name,
              input: jsonText(event.state.input),
              inputDetails: { truncated: false },
            },
          },
          event.timestamp,
        );
        if (type === "Parallel") this.append("ParallelStateStarted", undefined, event.timestamp);
        if (type === "Map") {
          const info = this.states.get(event.state.name);
          const items = readSimplePath(readSimplePath(event.state.input, info?.inputPath), info?.itemsPath);
          this.append(
            "MapStateStarted",
            { mapStateStartedEventDetails: Array.isArray(items) ? { length: items.length } : {} },
            event.timestamp,
          );
        }
        return;
      }
      case "StateExited": {
        const type = this.stateType(event.state.name, event.state.type);
        const key = this.stateKey(event.state.name, event.index);
        const failed = this.failedStates.delete(key);
        // A caught Parallel/Map already has its Failed event; only a clean exit succeeded.
        if (type === "Parallel" && !failed) this.append("ParallelStateSucceeded", undefined, event.timestamp);
        if (type === "Map" && !failed) this.append("MapStateSucceeded", undefined, event.timestamp);
        this.append(
          `${type}StateExited` as HistoryEventType,
          {
            stateExitedEventDetails: {
              name: event.state.name,
              output: jsonText(event.state.output),
              outputDetails: { truncated: false },
            },
          },
          event.timestamp,
        );
        return;
      }
      case "StateFailed": {
        const type = this.stateType(event.state.name, event.state.type);
        this.failedStates.add(this.stateKey(event.state.name, event.index));
        if (type === "Parallel") this.append("ParallelStateFailed", undefined, event.timestamp);
        if (type === "Map") this.append("MapStateFailed", undefined, event.timestamp);
        return;
      }
      case "StateRetried":
        this.failedStates.delete(this.stateKey(event.state.name, event.index));
        return;
      case "MapIterationStarted":
      case "MapIterationSucceeded":
      case "MapIterationFailed": {
        const detailsKey = `mapIteration${event.type.slice("MapIteration".length)}EventDetails`;
        this.append(
          event.type,
          { [detailsKey]: { name: event.parentState.name, index: event.index } },
          event.timestamp,
        );
        return;
      }
      default:
        // StateCaught, ParallelBranch* and Execution* have no AWS history counterpart here.
        return;
    }
  }

  /** The type from the original definition (rewritten waits run as Tasks but are Waits). */
  private stateType(name: string, engineType: string): string {
    return this.states.get(name)?.type ?? engineType;
  }

  private stateKey(name: string, index: number | undefined): string {
    return `${name}#${index ?? ""}`;
  }
}
