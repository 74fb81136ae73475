/**
 * The local runtime's EventBridge: the simulator's AWS events (`SimEvent`) are matched against the
 * stack's own rules (local/definitions.ts) and delivered to their target functions as EventBridge
 * delivers to Lambda: asynchronously, and, when the function throws, retried by Lambda after one
 * and then two more minutes (at the runtime's time scale) up to the function's `retryAttempts`,
 * then dropped (the deployed function's dead-letter queue; here, the delivery log).
 */
import type { LocalRule } from "../definitions.ts";
import type { SimEvent } from "../simulator/events.ts";
import { checkPattern, type EventPattern, matchesPattern } from "./pattern.ts";

/** Lambda's asynchronous retry delays, in seconds before the time scale. */
export const ASYNC_RETRY_DELAYS_SECONDS = [60, 120] as const;
const MAX_DELIVERIES_LOGGED = 1_000;

/** One attempt to deliver an event to a rule's target (GET /_sim/events lists them). */
export interface Delivery {
  readonly eventId: string;
  readonly detailType: string;
  readonly rule: string;
  readonly target: string;
  readonly attempt: number;
  readonly at: string;
  readonly outcome: "succeeded" | "failed" | "dropped";
  /** The error's name and message when the attempt failed. */
  readonly error?: string;
}

export interface LocalEventBridge {
  /** EventBridge received the event: deliver it to every rule it matches. */
  publish(event: SimEvent): void;
  /** Resolves once no delivery is running or waiting for a retry. */
  idle(): Promise<void>;
  /** The most recent deliveries, oldest first. */
  deliveries(): readonly Delivery[];
  /** The rules events are matched against (the stack's). */
  readonly rules: readonly LocalRule[];
  /** Cancels pending retries and waits for running deliveries. */
  close(): Promise<void>;
}

export interface LocalEventBridgeOptions {
  readonly rules: readonly LocalRule[];
  /** Runs the target's task with the event, as its function (IAM, Lambda context). */
  readonly invoke: (target: LocalRule["targets"][number], input: unknown) => Promise<unknown>;
  readonly timeScale: number;
}

/**
 * The value at a JSON path such as `$.detail.alarm_id` or `$.resources[0]` (EventBridge's
 * InputPathsMap paths: fields and array indexes).
 */
function valueAt(event: unknown, path: string): unknown {
  if (path === "$") return event;
  if (!/^\$(\.[A-Za-z0-9_-]+(\[\d+\])*)+$/.test(path))
    throw new Error(`The local event bus does not support the input path ${path}`);
  let value: unknown = event;
  for (const part of path.slice(2).match(/[A-Za-z0-9_-]+|\[\d+\]/g) ?? []) {
    if (typeof value !== "object" || value === null) return undefined;
    const key = part.startsWith("[") ? Number(part.slice(1, -1)) : part;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/**
 * EventBridge's input transformer: each `<name>` of the template replaced by the value at its
 * path, as JSON (a string with its quotes) where the template has it bare, as raw text inside a
 * quoted string; a path the event does not have gives null.
 */
export function transformInput(
  transformer: { inputPathsMap: Record<string, string>; inputTemplate: string },
  event: unknown,
): unknown {
  const text = transformer.inputTemplate.replace(
    /("?)<([A-Za-z0-9_.-]+)>("?)/g,
    (whole, open, name, close) => {
      const path = transformer.inputPathsMap[name as string];
      if (path === undefined) return whole;
      const value = valueAt(event, path);
      if (open && close) return JSON.stringify(value === undefined ? "" : String(value));
      return `${open}${JSON.stringify(value ?? null)}${close}`;
    },
  );
  return JSON.parse(text);
}

export function createLocalEventBridge(options: LocalEventBridgeOptions): LocalEventBridge {
  for (const rule of options.rules) checkPattern(rule.pattern as EventPattern, `rule ${rule.name}`);
  const log: Delivery[] = [];
  const running = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let waiters: (() => void)[] = [];
  let closed = false;

  const record = (d: Delivery) => {
    log.push(d);
    if (log.length > MAX_DELIVERIES_LOGGED) log.splice(0, log.length - MAX_DELIVERIES_LOGGED);
  };
  const settleWaiters = () => {
    if (running.size > 0 || timers.size > 0) return;
    const done = waiters;
    waiters = [];
    for (const w of done) w();
  };

  function deliver(rule: LocalRule, target: LocalRule["targets"][number], event: SimEvent, attempt: number) {
    const base = {
      eventId: event.id,
      detailType: event["detail-type"],
      rule: rule.name,
      target: target.task.name,
      attempt,
    };
    const run = (async () => {
      try {
        // `invoke` gives the target its own copy, as Lambda's wire does.
        const input = target.inputTransformer ? transformInput(target.inputTransformer, event) : event;
        await options.invoke(target, input);
        record({ ...base, at: new Date().toISOString(), outcome: "succeeded" });
      } catch (err) {
        const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        const retry = attempt <= target.retryAttempts && !closed;
        record({ ...base, at: new Date().toISOString(), outcome: retry ? "failed" : "dropped", error });
        if (retry) {
          const delay = (ASYNC_RETRY_DELAYS_SECONDS[attempt - 1] ?? 120) * 1000 * options.timeScale;
          const timer = setTimeout(() => {
            timers.delete(timer);
            deliver(rule, target, event, attempt + 1);
          }, delay);
          timers.add(timer);
        }
      }
    })();
    running.add(run);
    void run.finally(() => {
      running.delete(run);
      settleWaiters();
    });
  }

  return {
    publish(event) {
      if (closed) return;
      for (const rule of options.rules) {
        if (!matchesPattern(rule.pattern as EventPattern, event as unknown as Record<string, unknown>))
          continue;
        for (const target of rule.targets) deliver(rule, target, event, 1);
      }
    },
    idle: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        settleWaiters();
      }),
    deliveries: () => [...log],
    rules: options.rules,
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running]);
      settleWaiters();
    },
  };
}
