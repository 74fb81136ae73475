import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  aslToGraph,
  branchId,
  END,
  type GraphEdge,
  InvalidStateGraphError,
  ruleText,
  START,
  type StateGraph,
} from "#local/console/graph.ts";
import { renderStateMachinesDoc, STATE_MACHINES_DOC, toMermaid } from "#local/console/mermaid.ts";
import { stackDefinitions } from "#local/definitions.ts";

type Json = Record<string, unknown>;

// Prepare: the definitions exactly as the stack synthesizes them (and the local runtime runs them).
const { machines } = stackDefinitions();
const definitionOf = (lifecycle: string) => {
  const m = machines.find((x) => x.lifecycle.name === lifecycle);
  if (!m) throw new Error(`no machine for ${lifecycle}`);
  return m.definition;
};

/** Every state of a definition, nested ones included, with the container each runs in. */
function statesOf(scope: Json, parent?: string): { name: string; state: Json; parent?: string }[] {
  return Object.entries(scope.States as Record<string, Json>).flatMap(([name, state]) => {
    const branches = (state.Branches as Json[] | undefined) ?? [];
    const nested = [
      ...branches.flatMap((b, i) => statesOf(b, branches.length > 1 ? branchId(name, i) : name)),
      ...(state.ItemProcessor ? statesOf(state.ItemProcessor as Json, name) : []),
      ...(state.Iterator ? statesOf(state.Iterator as Json, name) : []),
    ];
    return [{ name, state, ...(parent ? { parent } : {}) }, ...nested];
  });
}

const edgesOf = (graph: StateGraph, from: string) => graph.edges.filter((e) => e.from === from);
const has = (graph: StateGraph, from: string, to: string, kind: GraphEdge["kind"]) =>
  graph.edges.some((e) => e.from === from && e.to === to && e.kind === kind);

describe("aslToGraph on the synthesized definitions", () => {
  it.each(machines.map((m) => [m.lifecycle.name, m.definition] as const))(
    "%s: one node per state in its container, and every transition as an edge",
    (_name, definition) => {
      // Act
      const graph = aslToGraph(definition);

      // Assess: nodes
      const states = statesOf(definition);
      const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
      expect(graph.nodes.filter((n) => !["Start", "End", "Branch"].includes(n.kind))).toHaveLength(
        states.length,
      );
      for (const { name, state, parent } of states) {
        expect(nodes.get(name)).toMatchObject({ kind: state.Type, label: name });
        expect(nodes.get(name)?.parent).toBe(parent);
      }
      // Assess: edges, each transition of each state exactly once
      for (const { name, state } of states) {
        const expected = [
          ...(state.Next ? [[state.Next, "next"]] : []),
          ...((state.Choices as Json[] | undefined) ?? []).map((c) => [c.Next, "choice"]),
          ...(state.Default ? [[state.Default, "default"]] : []),
          ...((state.Catch as Json[] | undefined) ?? []).map((c) => [c.Next, "catch"]),
        ];
        const top = !states.find((s) => s.name === name)?.parent;
        if (top && (state.End === true || state.Type === "Succeed")) expected.push([END, "end"]);
        expect(edgesOf(graph, name).map((e) => [e.to, e.kind])).toEqual(expected);
      }
      expect(edgesOf(graph, START).map((e) => e.to)).toEqual([definition.StartAt]);
      for (const e of graph.edges) {
        expect(nodes.has(e.from)).toBe(true);
        expect(nodes.has(e.to)).toBe(true);
      }
      expect(new Set(graph.edges.map((e) => e.id)).size).toBe(graph.edges.length);
    },
  );

  it("go-live: the claim's catches, the Parallel's branch inside it, and the compensation", () => {
    const graph = aslToGraph(definitionOf("go-live"));
    const node = (id: string) => graph.nodes.find((n) => n.id === id);

    expect(has(graph, START, "Claim Session", "start")).toBe(true);
    expect(graph.edges).toContainEqual(
      expect.objectContaining({
        from: "Claim Session",
        to: "Session Busy",
        kind: "catch",
        label: "SessionBusy",
      }),
    );
    expect(has(graph, "Claim Session", "Bring Channel Up", "next")).toBe(true);
    expect(node("Bring Channel Up")).toMatchObject({ kind: "Parallel" });
    expect(node("Confirm Program Channel")).toMatchObject({ parent: "Bring Channel Up", start: true });
    expect(node("Mark Session Live")).toMatchObject({ parent: "Bring Channel Up", end: true });
    expect(has(graph, "Bring Channel Up", "Clean Up", "catch")).toBe(true);
    expect(has(graph, "Session Live", END, "end")).toBe(true);
    expect(has(graph, "Session Busy", END, "end")).toBe(true);
    // A branch's End does not end the machine; a Fail state has no edge.
    expect(has(graph, "Mark Session Live", END, "end")).toBe(false);
    expect(edgesOf(graph, "Go Live Failed")).toEqual([]);
    expect(node("Start Channel")?.retriers).toBeGreaterThan(0);
    expect(graph.edges).toContainEqual(
      expect.objectContaining({
        from: "Wait For Channel Running: Check State",
        to: "Mark Session Live",
        kind: "default",
        label: "default",
      }),
    );
    expect(graph.edges).toContainEqual(
      expect.objectContaining({
        from: "Wait For Channel Running: Check State",
        to: "Wait For Channel Running: Describe Failure",
        kind: "choice",
        label: "not state == RUNNING",
      }),
    );
  });

  it("reconcile: a Map's item processor runs inside the Map", () => {
    const definition = definitionOf("reconcile");
    const map = statesOf(definition).find((s) => s.state.Type === "Map");
    expect(map).toBeDefined();
    const graph = aslToGraph(definition);
    const inner = graph.nodes.filter((n) => n.parent === map?.name);
    expect(inner.length).toBeGreaterThan(0);
    expect(inner.filter((n) => n.start)).toHaveLength(1);
  });
});

describe("aslToGraph on hand-written definitions", () => {
  it("gives each branch of a Parallel with several branches a container of its own", () => {
    const graph = aslToGraph({
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          End: true,
          Branches: [
            { StartAt: "A", States: { A: { Type: "Pass", End: true } } },
            { StartAt: "B", States: { B: { Type: "Wait", Seconds: 1, End: true } } },
          ],
        },
      },
    });
    expect(graph.nodes.map((n) => [n.id, n.kind, n.parent])).toEqual([
      [START, "Start", undefined],
      ["Both", "Parallel", undefined],
      [branchId("Both", 0), "Branch", "Both"],
      ["A", "Pass", branchId("Both", 0)],
      [branchId("Both", 1), "Branch", "Both"],
      ["B", "Wait", branchId("Both", 1)],
      [END, "End", undefined],
    ]);
    expect(graph.edges.map((e) => [e.from, e.to, e.kind])).toEqual([
      [START, "Both", "start"],
      ["Both", END, "end"],
    ]);
  });

  it("refuses a transition to a state outside its scope", () => {
    expect(() =>
      aslToGraph({
        StartAt: "P",
        States: {
          P: {
            Type: "Parallel",
            End: true,
            Branches: [{ StartAt: "A", States: { A: { Type: "Pass", Next: "Out" } } }],
          },
          Out: { Type: "Succeed" },
        },
      }),
    ).toThrow(InvalidStateGraphError);
    expect(() => aslToGraph({ StartAt: "X", States: {} })).toThrow(/StartAt names X/);
  });

  it("writes Choice rules in short", () => {
    expect(ruleText({ Variable: "$.channel.needsRepoint", BooleanEquals: true })).toBe(
      "needsRepoint == true",
    );
    expect(
      ruleText({
        And: [
          {
            Or: [
              { Variable: "$.a.state", StringEquals: "STARTING" },
              { Variable: "$.a.state", StringEquals: "X" },
            ],
          },
          { Variable: "$.wait.polls", NumericGreaterThanEquals: 150 },
        ],
      }),
    ).toBe("(state == STARTING or state == X) and polls >= 150");
    expect(ruleText({ Not: { Variable: "$.x", IsPresent: true } })).toBe("not x present");
    expect(ruleText({ Variable: "$.a", NumericLessThanPath: "$.limits.max" })).toBe("a < max");
  });
});

describe("Mermaid", () => {
  it("draws containers as subgraphs, catches dotted, and escapes labels", () => {
    const text = toMermaid(aslToGraph(definitionOf("go-live")));
    expect(text.startsWith("flowchart TD\n")).toBe(true);
    expect(text).toMatch(/subgraph n\d+ \["Bring Channel Up \(Parallel\)"\]/);
    expect(text).toMatch(/-\.->\|"SessionBusy"\|/);
    expect(text).toContain('{"Stale Program Destination?"}');
    // The bound of the wait for RUNNING (Rounds Left?: its 750 s budget spent), `>=` escaped.
    expect(text).toContain('|"spent #gt;= 750"|');
    expect(text).not.toMatch(/\|"[^"]*[<>][^"]*"\|/);
  });

  it(`${STATE_MACHINES_DOC} matches the synthesized definitions (else run npm run docs:graphs)`, () => {
    const expected = renderStateMachinesDoc(machines);
    const actual = readFileSync(join(import.meta.dirname, "..", "..", STATE_MACHINES_DOC), "utf8");
    expect(actual === expected, `${STATE_MACHINES_DOC} is stale: run npm run docs:graphs`).toBe(true);
  });
});
