import type { ExecutionView as ApiExecutionView } from "#api/executions.ts";
import type { ApiClient } from "./client.ts";
import type { Io } from "./io.ts";

/** What every command gets: the API, where to write, and how. */
export interface Context {
  readonly client: ApiClient;
  readonly io: Io;
  /** Print the final JSON answer only (for scripts): no progress, no prose. */
  readonly json: boolean;
  /** How often a followed execution, or `watch`, asks the API again. */
  readonly pollMs: number;
  /** Stops a follow or a watch (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** `GET /executions/{arn-or-name}`: the API's view, without the input, with the record it is about. */
export type ExecutionView = Omit<ApiExecutionView, "input"> & {
  readonly sessionId?: string;
  readonly destinationId?: string;
  readonly sourceId?: string;
};

export function printJson(ctx: Context, value: unknown): void {
  ctx.io.out(JSON.stringify(value, null, 2));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
