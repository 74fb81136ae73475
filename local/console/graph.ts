/**
 * A state machine definition (ASL, JSONPath) as a graph of nodes and edges: what the console
 * draws and what `npm run docs:graphs` writes as Mermaid. States are nodes named by their state
 * name (unique in a whole machine, nested states included, as ASL requires); Parallel and Map
 * states are containers of the states they run; a Parallel with more than one branch holds one
 * container per branch.
 */

export type StateType = "Task" | "Parallel" | "Map" | "Pass" | "Wait" | "Choice" | "Succeed" | "Fail";
export type NodeKind = StateType | "Start" | "End" | "Branch";
export type EdgeKind = "start" | "next" | "choice" | "default" | "catch" | "end";

export interface GraphNode {
  /** The state name; `START`, `END` and `branchId(...)` for the nodes that are no state. */
  readonly id: string;
  readonly label: string;
  readonly kind: NodeKind;
  /** The container (Parallel, Map or branch) the state runs in; absent at the top level. */
  readonly parent?: string;
  /** The first state of its machine, branch or item processor (StartAt). */
  readonly start?: boolean;
  /** Ends its machine, branch or item processor (End: true, or a Succeed state). */
  readonly end?: boolean;
  /** How many Retry rules the state has. */
  readonly retriers?: number;
  /** A Task's Resource (the function ARN for a Lambda task). */
  readonly resource?: string;
  /** A Fail state's Error and Cause when the definition writes them out (not ErrorPath/CausePath). */
  readonly error?: string;
  readonly cause?: string;
}

export interface GraphEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** A Choice rule in short ("state == RUNNING"), a Catch's error names, "default". */
  readonly label?: string;
}

export interface StateGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export const START = "__start__";
export const END = "__end__";
export const branchId = (parallel: string, index: number) => `__branch__:${parallel}:${index}`;

const STATE_TYPES = new Set<string>(["Task", "Parallel", "Map", "Pass", "Wait", "Choice", "Succeed", "Fail"]);
const MAX_LABEL = 60;

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

export class InvalidStateGraphError extends Error {
  override name = "InvalidStateGraphError";
}

/** `$.wait.observed.state` reads as `state`: the last step of the path is what a person recognises. */
function shortPath(path: unknown): string {
  if (typeof path !== "string") return "?";
  const steps = path.split(".");
  return steps.at(-1) || path;
}

const COMPARISONS: readonly (readonly [string, string])[] = [
  ["GreaterThanEquals", ">="],
  ["LessThanEquals", "<="],
  ["GreaterThan", ">"],
  ["LessThan", "<"],
  ["Equals", "=="],
  ["Matches", "matches"],
];

function operand(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** One Choice rule in short, e.g. `(state == STARTING or state == RECOVERING) and polls >= 150`. */
export function ruleText(rule: unknown): string {
  if (!isObject(rule)) return "?";
  const nested = (r: unknown) => {
    const text = ruleText(r);
    return isObject(r) &&
      ((Array.isArray(r.And) && r.And.length > 1) || (Array.isArray(r.Or) && r.Or.length > 1))
      ? `(${text})`
      : text;
  };
  if (Array.isArray(rule.And)) return rule.And.map(nested).join(" and ");
  if (Array.isArray(rule.Or)) return rule.Or.map(nested).join(" or ");
  if (rule.Not !== undefined) return `not ${nested(rule.Not)}`;
  const variable = shortPath(rule.Variable);
  for (const [key, value] of Object.entries(rule)) {
    if (key === "Variable" || key === "Next") continue;
    if (key === "IsPresent") return `${variable} ${value === true ? "present" : "absent"}`;
    if (key === "IsNull") return `${variable} ${value === true ? "is null" : "not null"}`;
    if (/^Is[A-Z]/.test(key))
      return `${variable} ${value === true ? "is" : "is not"} ${key.slice(2).toLowerCase()}`;
    const isPath = key.endsWith("Path");
    const name = isPath ? key.slice(0, -"Path".length) : key;
    const comparison = COMPARISONS.find(([suffix]) => name.endsWith(suffix));
    if (comparison) return `${variable} ${comparison[1]} ${isPath ? shortPath(value) : operand(value)}`;
  }
  return variable;
}

const clip = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text);

/**
 * Translates a definition to nodes and edges: Start -> StartAt; Next, Default, Choices[].Next and
 * Catch[].Next; End and Succeed of the top level -> End (a Fail state ends the run without an
 * edge). Parallel branches and a Map's ItemProcessor (or Iterator) become the container's
 * children; their End leads nowhere (the container's own Next goes on). Throws
 * InvalidStateGraphError for a transition to a state its scope does not have.
 */
export function aslToGraph(definition: unknown): StateGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const edge = (from: string, to: string, kind: EdgeKind, label?: string) => {
    edges.push({ id: `e${edges.length}`, from, to, kind, ...(label ? { label: clip(label) } : {}) });
  };

  const machine = (scope: unknown, parent: string | undefined, where: string) => {
    if (!isObject(scope) || !isObject(scope.States) || typeof scope.StartAt !== "string")
      throw new InvalidStateGraphError(`${where} has no StartAt and States`);
    const states = scope.States;
    if (!(scope.StartAt in states))
      throw new InvalidStateGraphError(`${where}: StartAt names ${scope.StartAt}, which it does not have`);
    if (parent === undefined) edge(START, scope.StartAt, "start");
    const target = (from: string, to: unknown) => {
      if (typeof to !== "string" || !(to in states))
        throw new InvalidStateGraphError(
          `${where}: ${from} goes to ${String(to)}, which its scope does not have`,
        );
      return to;
    };
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state) || typeof state.Type !== "string" || !STATE_TYPES.has(state.Type))
        throw new InvalidStateGraphError(`${where}: ${name} has no known Type`);
      if (seen.has(name)) throw new InvalidStateGraphError(`${name} is the name of two states`);
      seen.add(name);
      const kind = state.Type as StateType;
      const retriers = Array.isArray(state.Retry) ? state.Retry.length : 0;
      nodes.push({
        id: name,
        label: name,
        kind,
        ...(parent === undefined ? {} : { parent }),
        ...(name === scope.StartAt ? { start: true } : {}),
        ...(state.End === true || kind === "Succeed" ? { end: true } : {}),
        ...(retriers ? { retriers } : {}),
        ...(kind === "Task" && typeof state.Resource === "string" ? { resource: state.Resource } : {}),
        ...(kind === "Fail" && typeof state.Error === "string" ? { error: state.Error } : {}),
        ...(kind === "Fail" && typeof state.Cause === "string" ? { cause: state.Cause } : {}),
      });
      if (kind === "Parallel") {
        const branches = Array.isArray(state.Branches) ? state.Branches : [];
        if (branches.length === 0) throw new InvalidStateGraphError(`${where}: ${name} has no Branches`);
        if (branches.length === 1) machine(branches[0], name, `${name}'s branch`);
        else
          branches.forEach((branch, i) => {
            const id = branchId(name, i);
            nodes.push({ id, label: `Branch ${i + 1}`, kind: "Branch", parent: name });
            machine(branch, id, `${name}'s branch ${i + 1}`);
          });
      }
      if (kind === "Map") machine(state.ItemProcessor ?? state.Iterator, name, `${name}'s item processor`);
      if (state.Next !== undefined) edge(name, target(name, state.Next), "next");
      if (kind === "Choice") {
        for (const rule of Array.isArray(state.Choices) ? state.Choices : [])
          edge(name, target(name, isObject(rule) ? rule.Next : undefined), "choice", ruleText(rule));
        if (state.Default !== undefined) edge(name, target(name, state.Default), "default", "default");
      }
      for (const c of Array.isArray(state.Catch) ? state.Catch : []) {
        const errors = isObject(c) && Array.isArray(c.ErrorEquals) ? c.ErrorEquals.join(", ") : "";
        edge(name, target(name, isObject(c) ? c.Next : undefined), "catch", errors);
      }
      if (parent === undefined && (state.End === true || kind === "Succeed")) edge(name, END, "end");
    }
  };

  nodes.push({ id: START, label: "Start", kind: "Start" });
  machine(definition, undefined, "The definition");
  nodes.push({ id: END, label: "End", kind: "End" });
  return { nodes, edges };
}
