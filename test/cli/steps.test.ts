import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "#cli/steps.ts";
import { StepTracker } from "#cli/steps.ts";

/** A history of `[type, state?, error?]`, a second apart. */
function history(...rows: [string, string?, string?][]): HistoryEvent[] {
  return rows.map(([type, state, error], i) => ({
    id: i + 1,
    timestamp: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
    type,
    ...(state ? { state } : {}),
    ...(error ? { error } : {}),
  }));
}

const RUNNING = "Wait For Channel Running";

describe("StepTracker on an event-driven wait", () => {
  it("treats a round that ran out its fallback as the wait going on, not a failure", () => {
    const tracker = new StepTracker();
    const events = tracker.feed(
      history(
        ["PassStateEntered", RUNNING],
        ["PassStateExited", RUNNING],
        ["TaskStateEntered", "Start Channel"],
        ["TaskScheduled", "Start Channel"],
        ["TaskSubmitted", "Start Channel"],
        ["TaskTimedOut", "Start Channel", "States.Timeout"],
        ["TaskStateExited", "Start Channel"],
        ["PassStateEntered", `${RUNNING}: Count Round`],
        ["PassStateExited", `${RUNNING}: Count Round`],
        ["TaskStateEntered", `${RUNNING}: Await Event`],
        ["TaskScheduled", `${RUNNING}: Await Event`],
        ["TaskTimedOut", `${RUNNING}: Await Event`, "States.Timeout"],
        ["TaskStateExited", `${RUNNING}: Await Event`],
        ["PassStateEntered", `${RUNNING}: Count Round`],
        ["PassStateExited", `${RUNNING}: Count Round`],
        ["TaskStateEntered", `${RUNNING}: Await Event`],
        ["TaskScheduled", `${RUNNING}: Await Event`],
        ["TaskSucceeded", `${RUNNING}: Await Event`],
        ["TaskStateExited", `${RUNNING}: Await Event`],
        // An event that is not RUNNING yet: Check State leads back into the loop.
        ["ChoiceStateEntered", `${RUNNING}: Check State`],
        ["ChoiceStateExited", `${RUNNING}: Check State`],
        ["PassStateEntered", `${RUNNING}: Count Round`],
        ["PassStateExited", `${RUNNING}: Count Round`],
        ["ChoiceStateEntered", `${RUNNING}: Rounds Left?`],
        ["ChoiceStateExited", `${RUNNING}: Rounds Left?`],
        ["TaskStateEntered", `${RUNNING}: Await Event`],
        ["TaskScheduled", `${RUNNING}: Await Event`],
        ["TaskSucceeded", `${RUNNING}: Await Event`],
        ["TaskStateExited", `${RUNNING}: Await Event`],
        ["ChoiceStateEntered", `${RUNNING}: Check State`],
        ["ChoiceStateExited", `${RUNNING}: Check State`],
        ["TaskStateEntered", "Mark Session Live"],
      ),
    );

    expect(tracker.steps.map((s) => [s.name, s.failed])).toEqual([
      [RUNNING, undefined],
      ["Start Channel", undefined],
      ["Mark Session Live", undefined],
    ]);
    // Each ended once: Start Channel at its timeout, the wait when its last Check State led on.
    const done = events.filter((e) => e.kind === "done").map((e) => e.step.name);
    expect(done).toEqual(["Start Channel", RUNNING]);
    const lastCheck = Date.UTC(2026, 11, 1, 0, 0, 30);
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
