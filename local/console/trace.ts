/**
 * What an execution did, read from its history against the graph of its definition: which
 * states ran and how each ended, the transitions taken, the states running now, retries, and the
 * state that failed with its error. Only names, errors and causes are read from the history,
 * never inputs, outputs or parameters (those hold whatever a state passed on).
 */
import {
  CLOSED_BADLY,
  STATE_ENTERED,
  STATE_EXITED,
  TASK_ATTEMPT_FAILED,
  TASK_SCHEDULED,
  TASK_SUCCEEDED,
} from "#state-machines/workflow/history-events.ts";
import { END, type GraphEdge, type GraphNode, START, type StateGraph } from "./graph.ts";

/** One history event as the console shows it: no payloads. */
export interface ConsoleEvent {
  readonly id: number;
  readonly type: string;
  /** ISO time. */
  readonly timestamp?: string;
  /** The state a StateEntered/StateExited event names. */
  readonly state?: string;
  readonly error?: string;
  readonly cause?: string;
  /** What a task event invoked (a function ARN, or `lambda:invoke`). */
  readonly resource?: string;
}

/** Structural view of an SDK HistoryEvent (or the local service's stored record): details are read by name. */
export interface HistoryEventInput {
  readonly id?: number | undefined;
  readonly type?: string | undefined;
  readonly timestamp?: Date | number | string | undefined;
}

export type StateStatus = "running" | "succeeded" | "failed" | "aborted";

export interface StateRun {
  readonly status: StateStatus;
  /** Times the state was entered (loops enter a state again). */
  readonly entered: number;
  /** Task invocations, retries included. */
  readonly attempts: number;
  /** Invocations beyond the first of each entry. */
  readonly retries: number;
  /** A failed state that the run went on from through a Catch. */
  readonly caught?: boolean;
  readonly error?: string;
  readonly cause?: string;
}

export interface ExecutionTrace {
  readonly states: Readonly<Record<string, StateRun>>;
  /** Ids of the graph's edges the run went along. */
  readonly edges: readonly string[];
  /** The innermost states running now (several with parallel branches). */
  readonly current: readonly string[];
  /** Retries of every state. */
  readonly retries: number;
  /** The state whose error failed the run (the first failed task state, else the Fail state reached). */
  readonly failure?: { readonly state: string; readonly error?: string; readonly cause?: string };
}

const MAX_CAUSE = 4_000;
const text = (v: unknown) => (typeof v === "string" ? v : undefined);

function isoTime(v: HistoryEventInput["timestamp"]): string | undefined {
  if (v === undefined) return undefined;
  const date = v instanceof Date ? v : new Date(typeof v === "number" && v < 1e11 ? v * 1000 : v);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Keeps of each event its id, type, time, state name, error, cause and resource: nothing else. */
export function compactEvents(history: readonly HistoryEventInput[]): ConsoleEvent[] {
  return history
    .filter((e) => typeof e.id === "number" && typeof e.type === "string")
    .map((e) => {
      let state: string | undefined;
      let error: string | undefined;
      let cause: string | undefined;
      let resource: string | undefined;
      for (const [key, details] of Object.entries(e)) {
        if (!key.endsWith("EventDetails") || typeof details !== "object" || details === null) continue;
        const d = details as Record<string, unknown>;
        if (key === "stateEnteredEventDetails" || key === "stateExitedEventDetails") state = text(d.name);
        error ??= text(d.error);
        cause ??= text(d.cause);
        const res = text(d.resource);
        if (res !== undefined) resource = d.resourceType ? `${String(d.resourceType)}:${res}` : res;
      }
      const timestamp = isoTime(e.timestamp);
      return {
        id: e.id as number,
        type: e.type as string,
        ...(timestamp === undefined ? {} : { timestamp }),
        ...(state === undefined ? {} : { state }),
        ...(error === undefined ? {} : { error }),
        ...(cause === undefined
          ? {}
          : { cause: cause.length > MAX_CAUSE ? `${cause.slice(0, MAX_CAUSE)}…` : cause }),
        ...(resource === undefined ? {} : { resource }),
      };
    })
    .sort((a, b) => a.id - b.id);
}

interface OpenState {
  readonly name: string;
  attempts: number;
  failed: boolean;
}

interface MutableRun {
  status: StateStatus;
  entered: number;
  attempts: number;
  retries: number;
  caught?: boolean;
  error?: string;
  cause?: string;
  failedAt?: number;
}

/**
 * Replays the events over the graph. A state's last StateExited closes it and every state nested
 * in it still open (a branch state that failed, or was stopped by a sibling branch's failure).
 * Task events belong to the innermost open Task state (the one whose Resource they name, when
 * several are open). A transition is the edge from the most recently closed state that has an
 * edge to the state entered: its Catch edge when it failed, else its other edges.
 */
export function traceExecution(
  graph: StateGraph,
  events: readonly ConsoleEvent[],
  executionStatus: string,
): ExecutionTrace {
  const nodes = new Map<string, GraphNode>(graph.nodes.map((n) => [n.id, n]));
  const outgoing = new Map<string, GraphEdge[]>();
  for (const e of graph.edges) outgoing.set(e.from, [...(outgoing.get(e.from) ?? []), e]);
  const runs = new Map<string, MutableRun>();
  const run = (name: string) => {
    let r = runs.get(name);
    if (!r) {
      r = { status: "running", entered: 0, attempts: 0, retries: 0 };
      runs.set(name, r);
    }
    return r;
  };
  const taken = new Set<string>();
  const open: OpenState[] = [];
  const closed: { name: string; failed: boolean }[] = [];
  let retries = 0;
  let executionFailure: { error?: string; cause?: string } = {};

  const innermost = (kinds: readonly string[], resource?: string): OpenState | undefined => {
    const candidates = open.filter((o) => kinds.includes(nodes.get(o.name)?.kind ?? ""));
    const byResource = resource
      ? candidates.filter((o) => {
          const r = nodes.get(o.name)?.resource;
          return r !== undefined && (resource === r || resource.endsWith(`:${r}`) || r.endsWith(resource));
        })
      : [];
    return (byResource.length ? byResource : candidates).at(-1);
  };
  const setFailure = (name: string, failure: { error?: string; cause?: string }, at: number) => {
    const r = run(name);
    if (failure.error !== undefined) r.error = failure.error;
    if (failure.cause !== undefined) r.cause = failure.cause;
    r.failedAt ??= at;
  };
  const close = (state: OpenState, how: "exited" | "nested" | "stopped") => {
    const r = run(state.name);
    if (state.failed) {
      r.status = "failed";
      r.caught = how === "exited";
    } else r.status = how === "exited" ? "succeeded" : "aborted";
    closed.push({ name: state.name, failed: state.failed });
  };

  for (const event of events) {
    const { type } = event;
    if (STATE_ENTERED.test(type) && event.state !== undefined) {
      const name = event.state;
      const node = nodes.get(name);
      const r = run(name);
      r.entered += 1;
      r.status = "running";
      delete r.caught;
      if (node?.start && node.parent === undefined && closed.length === 0) {
        const start = graph.edges.find((e) => e.from === START && e.to === name);
        if (start) taken.add(start.id);
      } else {
        for (let i = closed.length - 1; i >= 0; i--) {
          const from = closed[i];
          if (!from) continue;
          const candidates = (outgoing.get(from.name) ?? []).filter((e) => e.to === name);
          if (!candidates.length) continue;
          const preferred = candidates.filter((e) => (e.kind === "catch") === from.failed);
          for (const e of preferred.length ? preferred : candidates) taken.add(e.id);
          break;
        }
      }
      // A Fail state fails its scope: with the Error it writes out, or the one a path gives (not in the events).
      const failing = node?.kind === "Fail";
      if (failing)
        setFailure(
          name,
          { ...(node.error ? { error: node.error } : {}), ...(node.cause ? { cause: node.cause } : {}) },
          event.id,
        );
      open.push({ name, attempts: 0, failed: failing });
    } else if (STATE_EXITED.test(type) && event.state !== undefined) {
      let index = -1;
      for (let i = open.length - 1; i >= 0; i--)
        if (open[i]?.name === event.state) {
          index = i;
          break;
        }
      if (index < 0) continue;
      const [state, ...nested] = open.splice(index);
      for (const n of nested.reverse()) close(n, "nested");
      if (state) close(state, "exited");
    } else if (TASK_SCHEDULED.test(type)) {
      const state = innermost(["Task"], event.resource);
      if (!state) continue;
      state.attempts += 1;
      state.failed = false;
      const r = run(state.name);
      r.attempts += 1;
      if (state.attempts > 1) {
        r.retries += 1;
        retries += 1;
      }
    } else if (TASK_ATTEMPT_FAILED.test(type)) {
      const state = innermost(["Task"], event.resource);
      if (!state) continue;
      state.failed = true;
      setFailure(
        state.name,
        {
          ...(event.error === undefined ? {} : { error: event.error }),
          ...(event.cause === undefined ? {} : { cause: event.cause }),
        },
        event.id,
      );
    } else if (TASK_SUCCEEDED.test(type)) {
      const state = innermost(["Task"], event.resource);
      if (state) state.failed = false;
    } else if (type === "ParallelStateFailed" || type === "MapStateFailed") {
      const state = innermost([type === "MapStateFailed" ? "Map" : "Parallel"]);
      if (!state) continue;
      state.failed = true;
      // The event names no error: it is that of the failed state still open inside the container.
      const cause = open
        .slice(open.indexOf(state) + 1)
        .filter((o) => o.failed)
        .map((o) => run(o.name))
        .at(-1);
      setFailure(
        state.name,
        {
          ...(cause?.error === undefined ? {} : { error: cause.error }),
          ...(cause?.cause === undefined ? {} : { cause: cause.cause }),
        },
        event.id,
      );
    } else if (type === "ExecutionSucceeded") {
      const last = [...closed].reverse().find((c) => nodes.get(c.name)?.parent === undefined);
      const end = graph.edges.find((e) => e.from === last?.name && e.to === END);
      if (end) taken.add(end.id);
    } else if (type === "ExecutionFailed" || type === "ExecutionTimedOut" || type === "ExecutionAborted") {
      executionFailure = {
        ...(event.error === undefined ? {} : { error: event.error }),
        ...(event.cause === undefined ? {} : { cause: event.cause }),
      };
      for (const state of open.splice(0).reverse()) {
        // The Fail state that ended the run: its error is the execution's.
        if (nodes.get(state.name)?.kind === "Fail") setFailure(state.name, executionFailure, event.id);
        close(state, "stopped");
      }
    }
  }

  const stillRunning = executionStatus === "RUNNING";
  const current = stillRunning
    ? open.filter((o, i) => !open.slice(i + 1).some((later) => isInside(nodes, later.name, o.name)))
    : [];
  if (!stillRunning) for (const state of open.splice(0).reverse()) close(state, "stopped");

  const failedRuns = [...runs.entries()].filter(([, r]) => r.status === "failed" && r.failedAt !== undefined);
  const firstTaskFailure = failedRuns
    .filter(([name]) => nodes.get(name)?.kind === "Task")
    .sort((a, b) => (a[1].failedAt ?? 0) - (b[1].failedAt ?? 0))[0];
  const failState = failedRuns
    .filter(([name]) => nodes.get(name)?.kind === "Fail")
    .sort((a, b) => (a[1].failedAt ?? 0) - (b[1].failedAt ?? 0))[0];
  const failed = CLOSED_BADLY.has(executionStatus) ? (firstTaskFailure ?? failState) : undefined;

  return {
    states: Object.fromEntries(
      [...runs.entries()].map(([name, { failedAt: _at, ...r }]) => [name, r satisfies StateRun]),
    ),
    edges: graph.edges.filter((e) => taken.has(e.id)).map((e) => e.id),
    current: current.map((o) => o.name),
    retries,
    ...(failed
      ? {
          // A Fail state whose error comes from a path passed it on: the execution's is that error.
          failure: {
            state: failed[0],
            ...((failed[1].error ?? executionFailure.error) === undefined
              ? {}
              : { error: failed[1].error ?? executionFailure.error }),
            ...((failed[1].cause ?? executionFailure.cause) === undefined
              ? {}
              : { cause: failed[1].cause ?? executionFailure.cause }),
          },
        }
      : {}),
  };
}

/** Whether `name` is nested (at any depth) in the container `ancestor`. */
function isInside(nodes: ReadonlyMap<string, GraphNode>, name: string, ancestor: string): boolean {
  for (let p = nodes.get(name)?.parent; p !== undefined; p = nodes.get(p)?.parent)
    if (p === ancestor) return true;
  return false;
}
