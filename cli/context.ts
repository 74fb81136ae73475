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

/** `GET /executions/{arn-or-name}` (api/executions.ts ExecutionView, as the route answers it). */
export interface ExecutionView {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly currentState?: string;
  readonly progress?: {
    readonly state: string;
    readonly elapsedSeconds: number;
    readonly budgetSeconds: number | null;
  };
  readonly retries?: number;
  readonly failure?: {
    readonly state: string | null;
    readonly error: string | null;
    readonly cause: string | null;
  };
  readonly output?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  readonly sessionId?: string;
  readonly destinationId?: string;
  readonly sourceId?: string;
}

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
