import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import type { Construct } from "constructs";
import { type TaskErrorName, TaskErrors } from "#lib/errors.ts";
import type { AnyTask, TaskInput, TaskOutput } from "#tasks/define.ts";
import { LAMBDA_SERVICE_RETRY, type RetryPolicy, TAKEOVER_PENDING_RETRY, TRANSIENT_RETRY } from "./retry.ts";
import { type Exact, isRef, type Payload, type Ref, type Slot } from "./state.ts";

export { EXECUTION } from "./state.ts";

/**
 * The Lambda functions behind tasks, made by the stack on first use: a state machine gets (and
 * its role may invoke) only the functions of the tasks it uses.
 */
export interface TaskFunctions {
  functionFor(task: AnyTask): IFunction;
}

export function retryProps(policy: RetryPolicy): sfn.RetryProps {
  return {
    errors: [...policy.errors],
    interval: Duration.seconds(policy.intervalSeconds),
    maxAttempts: policy.maxAttempts,
    backoffRate: policy.backoffRate,
    ...(policy.maxDelaySeconds !== undefined ? { maxDelay: Duration.seconds(policy.maxDelaySeconds) } : {}),
    ...(policy.jitter ? { jitterStrategy: sfn.JitterType.FULL } : {}),
  };
}

export interface TaskStateProps<T extends AnyTask, P> {
  readonly task: T;
  /** The task's input: exactly its fields, each a literal or a `Ref` into the state. */
  readonly payload: Exact<P, TaskInput<T>>;
  /** Where the task's result goes in the state (`DISCARD` keeps the state as it was). */
  readonly resultPath: Slot<TaskOutput<T>> | typeof sfn.JsonPath.DISCARD;
  /** Retries beyond the standard Lambda-service and throttling/5xx ones, tried first. */
  readonly extraRetries?: readonly RetryPolicy[];
  /** Default: twice the task's function timeout (30 s unless the task declares `timeoutSeconds`). */
  readonly timeout?: Duration;
  /**
   * A callback task (`lambda:invoke.waitForTaskToken`): the state ends when someone calls
   * SendTaskSuccess or SendTaskFailure with the token the payload passes (`TASK_TOKEN`), or when
   * `timeout` runs out (`States.Timeout`); the function's own answer is ignored.
   */
  readonly callback?: boolean;
}

/** The callback token of the state being run (`$$.Task.Token`), for a `callback` task's payload. */
export const TASK_TOKEN = { path: "$$.Task.Token" } as Ref<string>;

/** Turns refs into JSONPath selections (`"field.$": "$.path"`); arrays with refs become `States.Array`. */
export function renderPayload(value: unknown): unknown {
  if (isRef(value)) return sfn.JsonPath.stringAt((value as Ref<unknown>).path);
  if (Array.isArray(value)) {
    if (!value.some(isRef)) return value.map(renderPayload);
    return sfn.JsonPath.array(
      ...value.map((v) => {
        if (!isRef(v)) throw new Error("A payload array is either all references or all literals");
        return sfn.JsonPath.stringAt(v.path);
      }),
    );
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderPayload(v)]));
  }
  return value;
}

/**
 * A Lambda task with castflow's retry policy: the Lambda service errors AWS recommends
 * retrying, then throttling and 5xx of the AWS APIs behind it with jittered backoff. Errors
 * that are not listed (validation, not found, wrong state) are not retried.
 */
export function taskState<T extends AnyTask, P extends Payload<TaskInput<T>>>(
  scope: Construct,
  fns: TaskFunctions,
  title: string,
  props: TaskStateProps<T, P>,
): tasks.LambdaInvoke {
  const state = new tasks.LambdaInvoke(scope, title, {
    lambdaFunction: fns.functionFor(props.task),
    payload: sfn.TaskInput.fromObject(renderPayload(props.payload) as Record<string, unknown>),
    // A callback task's result is what SendTaskSuccess sends, not a Lambda response to unwrap.
    ...(props.callback
      ? { integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN }
      : { payloadResponseOnly: true }),
    retryOnServiceExceptions: false,
    resultPath: typeof props.resultPath === "string" ? props.resultPath : props.resultPath.path,
    taskTimeout: sfn.Timeout.duration(
      props.timeout ?? Duration.seconds(2 * (props.task.timeoutSeconds ?? 30)),
    ),
  });
  for (const policy of props.extraRetries ?? []) state.addRetry(retryProps(policy));
  state.addRetry(retryProps(LAMBDA_SERVICE_RETRY));
  state.addRetry(retryProps(TRANSIENT_RETRY));
  return state;
}

/**
 * The first state of a lifecycle: claims the session (retrying `TakeoverPending`). `SessionBusy`
 * (another lifecycle owns the session) ends in **Session Busy**, a Succeed: nothing was touched
 * and a late double request is no failure of the system, so it does not trip the alarm. Any other
 * error ends in the Fail state `failTitle`.
 */
export function claimState<T extends AnyTask, P extends Payload<TaskInput<T>>>(
  scope: Construct,
  fns: TaskFunctions,
  title: string,
  props: Omit<TaskStateProps<T, P>, "resultPath"> & {
    readonly failTitle: string;
    /** The error that means "another lifecycle owns the record", and its Succeed state. Default: sessions'. */
    readonly busy?: { readonly error: TaskErrorName; readonly title: string };
  },
): tasks.LambdaInvoke {
  const claim = taskState(scope, fns, title, {
    ...props,
    // Every lifecycle's claim result is at `$.claim`.
    resultPath: { path: "$.claim" } as Slot<TaskOutput<T>>,
    extraRetries: [...(props.extraRetries ?? []), TAKEOVER_PENDING_RETRY],
  });
  const busy = props.busy ?? { error: TaskErrors.SessionBusy, title: "Session Busy" };
  claim.addCatch(new sfn.Succeed(scope, busy.title, { comment: "Another lifecycle owns the record." }), {
    errors: [busy.error],
    resultPath: "$.error",
  });
  claim.addCatch(
    new sfn.Fail(scope, props.failTitle, { errorPath: "$.error.Error", causePath: "$.error.Cause" }),
    {
      errors: ["States.ALL"],
      resultPath: "$.error",
    },
  );
  return claim;
}
