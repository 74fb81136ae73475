import type * as z from "zod";

/**
 * A lifecycle, declared once: its name, its execution input, the record it works on, its
 * timeout and what settles it when an execution is aborted. This half has no CDK in it, so the
 * API can import it to start executions; the state machine builder (`defineMachine`) lives next
 * to it in the lifecycle's folder, and `state-machines/registry.ts` lists both.
 *
 * Derived from the name: the state machine `castflow-<stage>-<name>`, execution names
 * `<name>-<key>-<n>`, the ARN the API finds under `STATE_MACHINE_ARNS[name]`.
 */
export interface Lifecycle<I extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** The execution input. */
  readonly input: I;
  /** The id of the record an execution works on (execution names are `<name>-<key>-<n>`). */
  readonly key: (input: z.output<I>) => string;
  readonly timeoutMinutes: number;
  /**
   * What brings a record back to a settled state when an execution of this lifecycle was aborted
   * half-way: the lifecycle to run and its input (the local runtime runs it after a restart;
   * scheduled reconciliation will too); `"itself"`: the same lifecycle with the same input.
   * Default: nothing.
   */
  readonly settledBy?: Settle<I> | "itself";
  /**
   * Run on a schedule as well as on request: the stack deploys an EventBridge Scheduler schedule
   * (every `everyMinutes`, or the CDK context `castflow:<lifecycle in camelCase>Minutes`), the
   * local runtime a timer at the time scale. Default: on request only.
   */
  readonly schedule?: Schedule<I>;
}

export interface Schedule<I extends z.ZodType> {
  readonly everyMinutes: number;
  /** What the schedule is for (the schedule's description in the console). */
  readonly description: string;
  /** A scheduled execution's input; `id` is unique to each run (EventBridge Scheduler's execution id). */
  readonly input: (id: string) => z.input<I>;
}

/** The CDK context key that sets a scheduled lifecycle's minutes: `reconcile` -> `reconcileMinutes`. */
export const scheduleContextKey = (name: string) =>
  `${name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())}Minutes`;

export interface Settle<I extends z.ZodType> {
  readonly lifecycle: Lifecycle;
  readonly input: (aborted: z.output<I>) => unknown;
}

export function defineLifecycle<I extends z.ZodType>(lifecycle: Lifecycle<I>): Lifecycle<I> {
  if (!/^[a-z][a-z0-9-]*$/.test(lifecycle.name))
    throw new Error(`Lifecycle name ${lifecycle.name} is not kebab-case`);
  return lifecycle;
}

/** `<lifecycle>-<key>-<n>`: readable in the console, and the same for concurrent requests. */
export function executionName(lifecycle: Pick<Lifecycle, "name">, key: string, n: number): string {
  return `${lifecycle.name}-${key}-${n}`;
}
