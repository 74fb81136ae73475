import type { CompactEvent } from "#api/executions.ts";
import {
  CHECK_STEP,
  pollingLoop,
  STATE_ENTERED,
  STATE_EXITED,
  TASK_ATTEMPT_FAILED,
  TASK_SCHEDULED,
} from "#state-machines/workflow/history-events.ts";

/** One event of `GET /executions/{id}/history`. */
export type HistoryEvent = CompactEvent;

/** A state the execution entered, as the CLI shows it: one line each, a polling loop being one. */
export interface Step {
  readonly name: string;
  /** Task, Pass, Wait, Parallel, Map, Succeed, Fail (from the event type). */
  readonly kind: string;
  readonly enteredAt: number;
  /** When it finished (exited, failed for good, or its loop settled); undefined while it runs. */
  endedAt?: number;
  /** Why it failed: the attempt that was not retried, or the loop's Fail state. */
  failed?: { readonly error: string; readonly cause?: string };
  /** It had not finished when the execution closed (a branch cut short, an abort). */
  unfinished?: boolean;
}

export type StepEvent =
  | { readonly kind: "enter"; readonly step: Step }
  | { readonly kind: "done"; readonly step: Step }
  | {
      readonly kind: "retry";
      readonly state: string;
      readonly attempt: number;
      readonly error: string;
      readonly cause?: string;
    };

const CONTAINERS = new Set(["Parallel", "Map"]);

/** The error a round of an event-driven wait ends with when no event came (its TimeoutSeconds). */
const FALLBACK_TIMEOUT = "States.Timeout";

/**
 * Turns an execution's history, oldest first and fed in any number of pieces, into steps, retries
 * and step ends. A `WaitForState` loop (state-machines/workflow/wait-for-state.ts) enters a Pass
 * named after the wait, then `<that name>: Poll`, `: Pause`, ... on every poll: those fold into
 * the loop's step, so "Wait For Channel Running" is one step however many polls it takes, ending
 * when its `: Check State` leads out of the loop, or in its Fail state. Any other step ends at its own exit (in parallel branches too),
 * or where its task failed without a retry. Choice states take no time and are not steps.
 */
export class StepTracker {
  /** In the order they were entered. */
  readonly steps: Step[] = [];
  private readonly retries = new Map<string, number>();
  private pending: { state: string; error: string; cause?: string; at: number } | undefined;
  /** A loop whose Check State was just left: it ended there unless its next state is its own. */
  private checked: { loop: string; at: number } | undefined;

  /** The step a state belongs to: its polling loop's entry (waits.ts names the loop's states), or itself. */
  stepOf(state: string): string {
    return pollingLoop(state)?.entry ?? state;
  }

  private open(name: string): Step | undefined {
    return this.steps.findLast((s) => s.name === name && s.endedAt === undefined);
  }

  private end(step: Step | undefined, at: number, failed?: Step["failed"]): StepEvent[] {
    if (!step || step.endedAt !== undefined) return [];
    step.endedAt = at;
    if (failed) step.failed = failed;
    return [{ kind: "done", step }];
  }

  feed(events: readonly HistoryEvent[]): StepEvent[] {
    const out: StepEvent[] = [];
    for (const e of events) {
      const at = Date.parse(e.timestamp);
      // A state that failed exits before its Catch moves on: what comes next tells what failed.
      if (this.pending && STATE_EXITED.test(e.type) && e.state === this.pending.state) continue;
      if (this.pending) {
        const { state, error, cause } = this.pending;
        const failedAt = this.pending.at;
        this.pending = undefined;
        if (TASK_SCHEDULED.test(e.type) && e.state === state) {
          const attempt = (this.retries.get(state) ?? 0) + 1;
          this.retries.set(state, attempt);
          out.push({ kind: "retry", state, attempt, error, ...(cause ? { cause } : {}) });
          continue;
        }
        const next = STATE_ENTERED.test(e.type) && e.state ? pollingLoop(e.state) : undefined;
        if (error === FALLBACK_TIMEOUT && next) {
          // A round of an event-driven wait ran out its fallback and the wait goes on with another
          // round (wait-for-state.ts): no failure. A first round of its own (Start Channel) ends.
          if (this.stepOf(state) !== next.entry) out.push(...this.end(this.open(state), failedAt));
        } else {
          out.push(
            ...this.end(this.open(this.stepOf(state)), failedAt, { error, ...(cause ? { cause } : {}) }),
          );
        }
      }
      if (TASK_ATTEMPT_FAILED.test(e.type) && e.state && e.error) {
        this.pending = { state: e.state, error: e.error, ...(e.cause ? { cause: e.cause } : {}), at };
        continue;
      }
      if (/^(Parallel|Map)StateFailed$/.test(e.type)) {
        // Unnamed in the history: the innermost container still open is the one that failed.
        const container = this.steps.findLast((s) => CONTAINERS.has(s.kind) && s.endedAt === undefined);
        if (container) container.failed = { error: "a branch failed" };
        continue;
      }
      const entered = STATE_ENTERED.exec(e.type)?.[1];
      const exited = STATE_EXITED.exec(e.type)?.[1];
      if (this.checked && entered && e.state) {
        const { loop, at: checkedAt } = this.checked;
        this.checked = undefined;
        if (this.stepOf(e.state) !== loop) out.push(...this.end(this.open(loop), checkedAt));
      }
      if (exited === "Choice" && e.state) {
        const loop = pollingLoop(e.state)?.entry;
        if (loop && e.state === `${loop}: ${CHECK_STEP}`) this.checked = { loop, at };
      }
      if (!e.state || entered === "Choice" || exited === "Choice") continue;
      const stepName = this.stepOf(e.state);
      if (stepName !== e.state) {
        // A state of a polling loop: the loop ends after its Check State (above), or in its Fail state.
        if (entered === "Fail") out.push(...this.end(this.open(stepName), at, { error: e.state }));
        continue;
      }
      if (entered) {
        this.retries.set(e.state, 0);
        const step: Step = { name: e.state, kind: entered, enteredAt: at };
        this.steps.push(step);
        out.push({ kind: "enter", step });
        // Succeed and Fail states end the execution (or branch) where they are entered.
        if (entered === "Succeed" || entered === "Fail") out.push(...this.end(step, at));
      } else if (exited && pollingLoop(e.state)?.entry !== e.state) {
        out.push(...this.end(this.open(e.state), at));
      }
    }
    return out;
  }

  /** The execution has closed at `at`: a failure seen last was not retried, and open steps end here. */
  close(at: number): StepEvent[] {
    const out: StepEvent[] = [];
    const p = this.pending;
    this.pending = undefined;
    if (p)
      out.push(
        ...this.end(this.open(this.stepOf(p.state)), p.at, {
          error: p.error,
          ...(p.cause ? { cause: p.cause } : {}),
        }),
      );
    for (const step of this.steps) {
      if (step.endedAt !== undefined || CONTAINERS.has(step.kind)) continue;
      step.unfinished = true;
      out.push(...this.end(step, at));
    }
    return out;
  }

  /**
   * What ran after `failedState` failed: the steps entered after its last entry (the Catch's
   * compensation and the Fail state), with the attempts that failed among them.
   */
  after(failedState: string): Step[] {
    const name = this.stepOf(failedState);
    const at = this.steps.findLastIndex((s) => s.name === name);
    return at < 0 ? [] : this.steps.slice(at + 1);
  }
}

export const isContainer = (step: Step) => CONTAINERS.has(step.kind);

/** m:ss, or h:mm:ss from an hour on. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
