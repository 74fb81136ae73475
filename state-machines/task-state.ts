import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import type { Construct } from "constructs";
import { TaskErrors } from "../lib/errors.ts";
import {
  LAMBDA_SERVICE_RETRY,
  type RetryPolicy,
  TAKEOVER_PENDING_RETRY,
  TRANSIENT_RETRY,
} from "../lib/retry.ts";

/** The execution's own ARN and name, as every task that writes to a session needs them. */
export const EXECUTION = {
  executionArn: sfn.JsonPath.stringAt("$$.Execution.Id"),
  executionName: sfn.JsonPath.stringAt("$$.Execution.Name"),
} as const;

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

export interface TaskStateProps {
  readonly fn: IFunction;
  /** The task's input: a slice of the state, built with JsonPath references. */
  readonly payload: Record<string, unknown>;
  /** Where the task's result goes in the state (`DISCARD` keeps the state as it was). */
  readonly resultPath: string;
  /** Retries beyond the standard Lambda-service and throttling/5xx ones, tried first. */
  readonly extraRetries?: readonly RetryPolicy[];
  /** Default: 60 s (the task Lambdas time out at 30 s). */
  readonly timeout?: Duration;
}

/**
 * A Lambda task with castflow's retry policy: the Lambda service errors AWS recommends
 * retrying, then throttling and 5xx of the AWS APIs behind it with jittered backoff. Errors
 * that are not listed (validation, not found, wrong state) are not retried.
 */
export function taskState(scope: Construct, title: string, props: TaskStateProps): tasks.LambdaInvoke {
  const state = new tasks.LambdaInvoke(scope, title, {
    lambdaFunction: props.fn,
    payload: sfn.TaskInput.fromObject(props.payload),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    resultPath: props.resultPath,
    taskTimeout: sfn.Timeout.duration(props.timeout ?? Duration.seconds(60)),
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
export function claimState(
  scope: Construct,
  title: string,
  props: Omit<TaskStateProps, "resultPath"> & { readonly failTitle: string },
): tasks.LambdaInvoke {
  const claim = taskState(scope, title, {
    ...props,
    resultPath: "$.claim",
    extraRetries: [...(props.extraRetries ?? []), TAKEOVER_PENDING_RETRY],
  });
  claim.addCatch(new sfn.Succeed(scope, "Session Busy", { comment: "Another lifecycle owns the session." }), {
    errors: [TaskErrors.SessionBusy],
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
