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

/**
 * Access to castflow's DynamoDB table: none, read, read and write, or only the wait registrations
 * (items under `wait#` partitions, lib/waits.ts).
 */
export type TableAccess = "none" | "read" | "write" | "waits";

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

/** One field that failed validation and why, as the API's `details.fields` lists it. */
export interface FieldIssue {
  readonly field: string;
  /** What is wrong with it, as the predicate of a sentence about the field ("is required"). */
  readonly reason: string;
}

/** The value at `path` in `input`, or undefined. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  date: "a date",
};

/**
 * Why zod refused a value, as a predicate ("is required", "must be at most 64 characters").
 * Schemas' own messages are already predicates (they start in lower case: "must not be empty")
 * and are kept; zod's default messages ("Invalid input: expected string, received undefined")
 * are replaced from the issue's data.
 */
function reasonOf(issue: z.core.$ZodIssue, missing: boolean): string {
  const own = /^[a-z]/.test(issue.message) ? issue.message : undefined;
  if (missing && ["invalid_type", "invalid_value", "invalid_union"].includes(issue.code))
    return "is required";
  if (own) return own;
  switch (issue.code) {
    case "invalid_type":
      if (/received undefined$/.test(issue.message)) return "is required";
      return `must be ${TYPE_NAMES[issue.expected] ?? `of type ${issue.expected}`}`;
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      if (issue.origin === "string") {
        if (small && Number(bound) === 1) return "must not be empty";
        return `must be ${small ? "at least" : "at most"} ${bound} characters`;
      }
      if (issue.origin === "array" || issue.origin === "set")
        return `must have ${small ? "at least" : "at most"} ${bound} items`;
      if (inclusive) return `must be ${small ? "at least" : "at most"} ${bound}`;
      return `must be ${small ? "greater" : "less"} than ${bound}`;
    }
    case "invalid_format":
      if (issue.format === "regex") return "has an invalid format";
      if (issue.format === "url") return "must be a URL";
      if (issue.format === "email") return "must be an email address";
      return `must be a valid ${issue.format}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "invalid_key":
      return "has an invalid key";
    case "invalid_element":
      return "has an invalid item";
    default:
      return "is not valid";
  }
}

/**
 * The fields a zod error names, one reason each (the first zod reports), with unknown keys as
 * fields of their own ("x is not a known field"). `root` names the value itself (`body`,
 * `input`); with `input`, a field that is absent reads "is required" whatever the schema says.
 */
export function issueFields(
  error: z.ZodError,
  options: { readonly root?: string; readonly input?: unknown } = {},
): FieldIssue[] {
  const root = options.root ?? "input";
  const fields = new Map<string, string>();
  const add = (path: readonly PropertyKey[], reason: string) => {
    const field = path.length ? path.map(String).join(".") : root;
    if (!fields.has(field)) fields.set(field, reason);
  };
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) add([...issue.path, key], "is not a known field");
      continue;
    }
    const missing =
      "input" in options && issue.path.length > 0 && valueAt(options.input, issue.path) === undefined;
    add(issue.path, reasonOf(issue, missing));
  }
  return [...fields].map(([field, reason]) => ({ field, reason }));
}

/** A predicate reads after the field ("showId is required"); any other reason follows a colon. */
const PREDICATE =
  /^(is|are|was|must|may|might|can|cannot|should|needs?|has|have|does|do|names|applies|contains|matches|exceeds|refers|points|belongs)\b/;

/** One field's problem as a sentence: "showId is required", "name must be at most 64 characters". */
export const fieldSentence = ({ field, reason }: FieldIssue) =>
  PREDICATE.test(reason) ? `${field} ${reason}` : `${field}: ${reason}`;

/**
 * Zod issues as sentences naming each field, one reason per field, joined by "; " (what a failed
 * state and a 400 say): "showId is required; name must be at most 64 characters".
 */
export function describeIssues(
  error: z.ZodError,
  options: { readonly root?: string; readonly input?: unknown } = {},
): string {
  return issueFields(error, options).map(fieldSentence).join("; ");
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
