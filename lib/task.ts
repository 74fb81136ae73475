import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type * as z from "zod";
import { invalidTaskInput, isNetworkError, TaskError, TaskErrors } from "./errors.ts";
import { withInvocationLogger } from "./logger.ts";

export interface TaskContext {
  /** Aborted shortly before the Lambda deadline: pass it to SDK calls (`abortSignal`). */
  readonly signal: AbortSignal;
}

export type TaskFn<I, O> = (input: I, ctx: TaskContext) => Promise<O>;

/** Formats zod issues as "path: reason" so a failed state names the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(input)"}: ${i.message}`).join("; ");
}

/**
 * Wraps a task's plain function as a Lambda handler: validates the input against the task's
 * schema (failing with `InvalidTaskInput`, never retried), adds the session and execution to
 * every log line, and aborts SDK calls just before the Lambda deadline.
 */
export function taskHandler<S extends z.ZodType, O>(taskName: string, schema: S, fn: TaskFn<z.infer<S>, O>) {
  return middy<unknown, O, Error, Context>(
    async (event: unknown, context: Context, { signal }: { signal: AbortSignal }) => {
      const parsed = schema.safeParse(event);
      if (!parsed.success) throw invalidTaskInput(`${taskName}: ${describeIssues(parsed.error)}`);
      const input = parsed.data as Record<string, unknown>;
      const keys = {
        task: taskName,
        sessionId: typeof input.sessionId === "string" ? input.sessionId : undefined,
        executionArn: typeof input.executionArn === "string" ? input.executionArn : undefined,
      };
      return await withInvocationLogger(context, keys, async () => {
        try {
          return await fn(parsed.data, { signal });
        } catch (err) {
          // A socket error has no AWS error name for Retry to match: give it one.
          if (isNetworkError(err)) {
            throw new TaskError(
              TaskErrors.NetworkError,
              `${taskName}: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
          throw err;
        }
      });
    },
    { timeoutEarlyInMillis: 500 },
  );
}
