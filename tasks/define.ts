import { fileURLToPath } from "node:url";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type * as z from "zod";
import type { IvsChannelRole } from "#lib/aws/ivs.ts";
import { config } from "#lib/config.ts";
import { invalidTaskInput, isNetworkError, TaskError, TaskErrors } from "#lib/errors.ts";
import { withInvocationLogger } from "#lib/logger.ts";

export interface TaskContext {
  /** Aborted shortly before the Lambda deadline: pass it to SDK calls (`abortSignal`). */
  readonly signal: AbortSignal;
}

export type TaskFn<I, O> = (input: I, ctx: TaskContext) => Promise<O>;

/**
 * Where a grant applies. The stack turns each scope into ARNs of this account and region:
 * `medialive` every MediaLive resource, `ivs` IVS channels and stream keys, `states` executions
 * of castflow's own state machines, `medialive-role` the role MediaLive assumes (iam:PassRole),
 * `mediaconnect` MediaConnect flows, `stream-keys` the SSM parameters under the stream-key prefix, `mediaconnect-role` the role
 * MediaConnect assumes to read SRT keys,
 * `*` APIs that are not resource-scoped (List* calls).
 */
export type GrantScope =
  | "medialive"
  | "ivs"
  | "mediaconnect"
  | "stream-keys"
  | "states"
  | "state-machines"
  | "medialive-role"
  | "mediaconnect-role"
  | "*";

export interface Grant {
  readonly actions: readonly string[];
  readonly on: GrantScope;
  /**
   * Only on IVS channels castflow created with one of these roles (`aws:ResourceTag/castflow:role`),
   * so a task that deletes relay channels can never delete a host's persistent channel.
   */
  readonly onlyRoles?: readonly IvsChannelRole[];
}

/** Access to castflow's DynamoDB table. */
export type TableAccess = "none" | "read" | "write";

/**
 * A task, declared once: its name, its input schema, its IAM grants and its handler. The CDK
 * stack builds the function and its policy from this, the state machines type their payloads
 * against `input`, and the local runtime invokes `handler` under the same grants.
 */
export interface TaskDefinition<S extends z.ZodType = z.ZodType, O = unknown> {
  readonly name: string;
  /** Absolute path of the module that exports `handler` (the function's bundling entry). */
  readonly entry: string;
  readonly input: S;
  readonly table: TableAccess;
  readonly grants: readonly Grant[];
  /** The function's timeout (default 30 s): a task that reads a whole account needs more. */
  readonly timeoutSeconds?: number;
  /** The plain function (what unit tests call). */
  run(input: z.output<S>, ctx: TaskContext): Promise<O>;
  readonly handler: (event: unknown, context: Context) => Promise<O>;
}

/** Any task, whatever its input and output (what the stack and the local runtime handle). */
export type AnyTask = TaskDefinition<z.ZodType, unknown>;

/** What a state machine must pass to the task (fields with defaults may be left out). */
export type TaskInput<T> = T extends TaskDefinition<infer S, unknown> ? z.input<S> : never;
/** What the task returns into the state. */
export type TaskOutput<T> = T extends TaskDefinition<z.ZodType, infer O> ? O : never;

/** Formats zod issues as "path: reason" so a failed state names the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(input)"}: ${i.message}`).join("; ");
}

/**
 * Declares a task. `entry` is the declaring module's `import.meta.url`: the module must also
 * export the result's `handler` as `handler` (what Lambda invokes).
 */
export function defineTask<S extends z.ZodType, O>(def: {
  readonly name: string;
  readonly entry: string;
  readonly input: S;
  readonly table?: TableAccess;
  readonly grants?: readonly Grant[];
  readonly timeoutSeconds?: number;
  readonly run: TaskFn<z.output<S>, O>;
}): TaskDefinition<S, O> {
  // On Lambda, a missing setting fails the cold start, before any invocation does work.
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) config();
  return {
    name: def.name,
    entry: def.entry.startsWith("file:") ? fileURLToPath(def.entry) : def.entry,
    input: def.input,
    table: def.table ?? "none",
    grants: def.grants ?? [],
    ...(def.timeoutSeconds ? { timeoutSeconds: def.timeoutSeconds } : {}),
    run: def.run,
    handler: taskHandler(def.name, def.input, def.run),
  };
}

/**
 * Wraps a task's plain function as a Lambda handler: checks the configuration, validates the
 * input against the task's schema (failing with `InvalidTaskInput`, which no state retries), adds the
 * session and execution to every log line, and aborts SDK calls just before the Lambda deadline
 * (middy gives every invocation its own AbortController).
 */
export function taskHandler<S extends z.ZodType, O>(taskName: string, schema: S, fn: TaskFn<z.output<S>, O>) {
  return middy<unknown, O, Error, Context>(
    async (event: unknown, context: Context, { signal }: { signal: AbortSignal }) => {
      config();
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
