import { GO_LIVE_TIMEOUT_MINUTES } from "./waits.ts";

/**
 * Retry policies, in one place for every state machine (cdklabs/construct-hub habit).
 * AWS SDK clients in tasks are built with `maxAttempts: 1` so that every retry of an AWS call
 * is a Step Functions retry: visible in the execution history, with backoff and full jitter.
 */

/** Errors the Lambda service itself raises; AWS recommends retrying them (aws-facts.md). */
export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
] as const;

/** Throttling and server-side errors of the AWS APIs the tasks call (MediaLive, IVS, SSM, DynamoDB). */
export const TRANSIENT_AWS_ERRORS = [
  "Lambda.TooManyRequestsException",
  "TooManyRequestsException",
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerErrorException",
  "InternalServerException",
  "InternalServerError",
  "BadGatewayException",
  "GatewayTimeoutException",
  "ServiceUnavailableException",
  "StreamUnavailable",
  "TimeoutError",
  "NetworkError",
] as const;

export interface RetryPolicy {
  readonly errors: readonly string[];
  readonly intervalSeconds: number;
  readonly maxAttempts: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds?: number;
  readonly jitter: boolean;
}

/** AWS's recommendation for Lambda service errors: 2 s, 6 attempts, backoff 2. */
export const LAMBDA_SERVICE_RETRY: RetryPolicy = {
  errors: LAMBDA_SERVICE_ERRORS,
  intervalSeconds: 2,
  maxAttempts: 6,
  backoffRate: 2,
  jitter: false,
};

/** Throttling and 5xx: backoff with full jitter, capped so one state never sleeps for minutes. */
export const TRANSIENT_RETRY: RetryPolicy = {
  errors: TRANSIENT_AWS_ERRORS,
  intervalSeconds: 1,
  maxAttempts: 6,
  backoffRate: 2,
  maxDelaySeconds: 20,
  jitter: true,
};

/**
 * A channel in a transitional state (CREATING, STARTING, STOPPING, UPDATING) refuses the call
 * for a while; MediaLive budgets up to 10 minutes for a start (aws-facts.md), so wait that long.
 */
export const CHANNEL_NOT_READY_RETRY: RetryPolicy = {
  errors: ["ChannelNotReady", "ConflictException"],
  intervalSeconds: 5,
  maxAttempts: 40,
  backoffRate: 1.2,
  maxDelaySeconds: 15,
  jitter: false,
};

/**
 * IVS refuses DeleteChannel (409) while a stream is live; after StopStream the stream ends within
 * seconds, but an encoder may reconnect. Keep trying for about five minutes.
 */
export const IVS_CHANNEL_BUSY_RETRY: RetryPolicy = {
  errors: ["IvsChannelBusy"],
  intervalSeconds: 5,
  maxAttempts: 12,
  backoffRate: 1.5,
  maxDelaySeconds: 30,
  jitter: false,
};

/**
 * end-session waits for a go-live or stop that is under way to settle instead of cancelling it
 * half-way: for as long as go-live's own timeout (GO_LIVE_TIMEOUT_MINUTES, compensation included),
 * polling every 30 s.
 */
export const SESSION_BUSY_RETRY: RetryPolicy = {
  errors: ["SessionBusy"],
  intervalSeconds: 30,
  maxAttempts: Math.ceil((GO_LIVE_TIMEOUT_MINUTES * 60) / 30) + 10,
  backoffRate: 1,
  jitter: false,
};

/** DynamoDB cancelled the statistics transaction for a concurrent write to the same item. */
export const CHANNEL_RELEASE_CONFLICT_RETRY: RetryPolicy = {
  errors: ["TransactionConflict"],
  intervalSeconds: 1,
  maxAttempts: 6,
  backoffRate: 2,
  maxDelaySeconds: 10,
  jitter: true,
};

/**
 * A session whose owning execution closed moments ago is taken over only after a grace period
 * (TAKEOVER_GRACE_SECONDS, 90 s by default: above the 60 s task timeout), so a task the dead
 * execution still runs cannot create a resource behind the new owner's back.
 */
export const TAKEOVER_PENDING_RETRY: RetryPolicy = {
  errors: ["TakeoverPending"],
  intervalSeconds: 15,
  maxAttempts: 10,
  backoffRate: 1,
  jitter: false,
};
