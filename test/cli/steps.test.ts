import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "#cli/steps.ts";
import { StepTracker } from "#cli/steps.ts";

/** A history of `[type, state?, error?]`, a second apart. */
function history(...rows: Row[]): HistoryEvent[] {
  return rows.map(([type, state, error], i) => ({
    id: i + 1,
    timestamp: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
    type,
    ...(state ? { state } : {}),
    ...(error ? { error } : {}),
  }));
}

const RUNNING = "Wait For Channel Running";
type Row = [string, string?, string?];

/** A state entered and left. */
const through = (kind: string, state: string): Row[] => [
  [`${kind}StateEntered`, state],
  [`${kind}StateExited`, state],
];
/** A round of the wait (a callback task) that ended `outcome`. */
const round = (state: string, outcome: "ran out" | "answered"): Row[] => [
  ["TaskStateEntered", state],
  ["TaskScheduled", state],
  outcome === "ran out" ? ["TaskTimedOut", state, "States.Timeout"] : ["TaskSucceeded", state],
  ["TaskStateExited", state],
];

describe("StepTracker on an event-driven wait", () => {
  it("treats a round that ran out its fallback as the wait going on, not a failure", () => {
    const tracker = new StepTracker();
    const rows: Row[] = [
      ...through("Pass", RUNNING),
      ...round("Start Channel", "ran out"),
      ...through("Pass", `${RUNNING}: Count Round`),
      ...round(`${RUNNING}: Await Event`, "ran out"),
      ...through("Pass", `${RUNNING}: Count Round`),
      ...round(`${RUNNING}: Await Event`, "answered"),
      // An event that is not RUNNING yet: Check State leads back into the loop.
      ...through("Choice", `${RUNNING}: Check State`),
      ...through("Pass", `${RUNNING}: Count Round`),
      ...through("Choice", `${RUNNING}: Rounds Left?`),
      ...round(`${RUNNING}: Await Event`, "answered"),
      ...through("Choice", `${RUNNING}: Check State`),
      ["TaskStateEntered", "Mark Session Live"],
    ];
    const events = tracker.feed(history(...rows));

    expect(tracker.steps.map((s) => [s.name, s.failed])).toEqual([
      [RUNNING, undefined],
      ["Start Channel", undefined],
      ["Mark Session Live", undefined],
    ]);
    // Each ended once: Start Channel at its timeout, the wait when its last Check State led on.
    const done = events.filter((e) => e.kind === "done").map((e) => e.step.name);
    expect(done).toEqual(["Start Channel", RUNNING]);
    // The history's rows are a second apart: the wait ends when its last Check State is left.
    const lastCheck = Date.UTC(2026, 11, 1, 0, 0, rows.length - 2);
    expect(tracker.steps[0]?.endedAt).toBe(lastCheck);
    expect(events.some((e) => e.kind === "retry")).toBe(false);
  });

  it("still reports a task that failed and was caught by a compensation as failed", () => {
    const tracker = new StepTracker();
    tracker.feed(
      history(
        ["TaskStateEntered", "Start Channel"],
        ["TaskScheduled", "Start Channel"],
        ["TaskFailed", "Start Channel", "UnprocessableEntityException"],
        ["TaskStateExited", "Start Channel"],
        ["ParallelStateEntered", "Clean Up"],
      ),
    );
    expect(tracker.steps.find((s) => s.name === "Start Channel")?.failed).toEqual({
      error: "UnprocessableEntityException",
    });
  });
});
