import { AsyncLocalStorage } from "node:async_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";

/** The process-wide logger; each invocation logs through a child of it (see `withInvocationLogger`). */
const base = new Logger({ serviceName: "castflow" });
const current = new AsyncLocalStorage<Logger>();

/**
 * Structured JSON logs (level from POWERTOOLS_LOG_LEVEL / LOG_LEVEL). Callers add `sessionId` /
 * `executionArn` keys; stream keys and other secrets are never passed to the logger.
 *
 * Inside an invocation this is that invocation's own child logger, carrying its Lambda context
 * and keys. On Lambda one invocation runs at a time, so this changes nothing there; the local
 * runtime runs many tasks in one process, whose log lines would otherwise borrow each other's
 * function name and keys.
 */
export const logger: Logger = new Proxy(base, {
  get(target, prop) {
    const active = current.getStore() ?? target;
    const value: unknown = Reflect.get(active, prop, active);
    return typeof value === "function" ? value.bind(active) : value;
  },
});

/** Runs `fn` with a child logger holding the invocation's Lambda context and `keys`. */
export function withInvocationLogger<T>(
  context: Context,
  keys: Record<string, string | undefined>,
  fn: () => Promise<T>,
): Promise<T> {
  const child = base.createChild();
  child.addContext(context);
  child.appendKeys(keys);
  return current.run(child, fn);
}
