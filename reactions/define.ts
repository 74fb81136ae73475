import type { Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import type { WaitMode } from "#state-machines/workflow/waits.ts";
import type { AnyTask } from "#tasks/define.ts";

/** An EventBridge event pattern (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html). */
export type EventPattern = Record<string, unknown>;

/**
 * What castflow does when AWS reports something: an EventBridge rule (`pattern`) whose target is
 * a task function. The stack deploys the rule, the function and its grants (the task's own, plus
 * StartExecution on the state machines of `starts` only); the local runtime's event bus delivers
 * the simulator's events through the very rule the stack synthesizes.
 *
 * EventBridge invokes the function asynchronously: when the task throws, Lambda retries the event
 * after about one and then two more minutes (`retryAttempts`, 0-2), then drops it. Events are best
 * effort (late, lost, duplicated), so a reaction re-checks what it reacts to before acting and is
 * harmless when repeated.
 */
export interface Reaction {
  readonly name: string;
  readonly description: string;
  readonly pattern: EventPattern;
  readonly task: AnyTask;
  /**
   * The fields of the event the task receives, each a JSON path into the event (an EventBridge
   * input transformer): only what the task needs reaches it, its logs, its retries and its
   * dead-letter queue. Default: the whole event.
   */
  readonly fields?: Readonly<Record<string, string>>;
  readonly starts: readonly Pick<Lifecycle, "name">[];
  /** Lambda's asynchronous retries when the task throws (default 2, AWS's default). */
  readonly retryAttempts?: 0 | 1 | 2;
  /**
   * Deployed only when the lifecycles wait this way (`castflow:waits`): a reaction that ends
   * event-driven waits has nothing to wake when they poll. Default: always deployed.
   */
  readonly onlyWhenWaitsAre?: WaitMode;
}

export const defineReaction = (reaction: Reaction): Reaction => reaction;
