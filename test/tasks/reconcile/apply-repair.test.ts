import { describe, expect, it } from "vitest";
import { MACHINES } from "#state-machines/registry.ts";
import { OWNING_LIFECYCLES } from "#tasks/reconcile/apply-repair.ts";

describe("apply-repair", () => {
  it("knows every lifecycle of the registry that settles a record, so reconcile can settle what any of them left", () => {
    const settling = MACHINES.filter((m) => m.lifecycle.settledBy).map((m) => m.lifecycle.name);
    expect(OWNING_LIFECYCLES.map((l) => l.name).sort()).toEqual([...settling].sort());
    // The very lifecycle objects, not look-alikes: their settle rules are what runs.
    for (const l of OWNING_LIFECYCLES)
      expect(MACHINES.find((m) => m.lifecycle.name === l.name)?.lifecycle).toBe(l);
  });
});
