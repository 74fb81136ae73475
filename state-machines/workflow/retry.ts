import {
  DESTINATION_TIMEOUT_MINUTES,
  GO_LIVE_TIMEOUT_MINUTES,
  SHARED_APPLY_TIMEOUT_MINUTES,
} from "./waits.ts";

/**
 * Retry policies, in one place for every state machine (cdklabs/construct-hub habit), and the
 * number of attempts the media SDK clients make per call (lib/aws/clients.ts).
 *
 * Two layers, on purpose. Inside a task, the MediaLive and IVS clients retry a throttled or 5xx
 * call a couple of times (`SDK_MAX_ATTEMPTS`), except the calls that are not safe to repeat
 * (`SINGLE_ATTEMPT_COMMANDS`): a task makes several calls, and when any one failure fails the
 * whole task, task-level retries alone lose too often once faults are frequent (`npm run chaos`
 * measures it). Around each task, Step Functions retries what is left (`TRANSIENT_RETRY`), with
 * backoff and full jitter, visible in the execution history, and re-runs a task whose Lambda
 * died or timed out (`LAMBDA_SERVICE_RETRY`): every task is idempotent.
 */

/**
 * Which retry setting this process builds its state machines and SDK clients with:
 * `CASTFLOW_RETRY_SETTING` = `new` (the default) or `old`, the setting before the SDK clients
 * retried (single attempt, no retry of a timed-out Lambda), kept so `npm run chaos` can measure
 * both side by side. Read once, when this module loads.
 */
export type RetrySetting = "old" | "new";
export const RETRY_SETTING: RetrySetting = retrySettingFrom(process.env.CASTFLOW_RETRY_SETTING);

function retrySettingFrom(value: string | undefined): RetrySetting {
  if (value === undefined || value === "" || value === "new") return "new";
  if (value === "old") return "old";
  throw new Error(`CASTFLOW_RETRY_SETTING must be "old" or "new", got "${value}"`);
}
const isOld = RETRY_SETTING === "old";

/**
 * Attempts per MediaLive and IVS call inside a task (AWS SDK standard mode's default is 3), for
 * throttling, 5xx and network errors only; backoff as the SDK's standard mode.
 */
export const SDK_MAX_ATTEMPTS = isOld ? 1 : 3;

/**
 * Calls the SDK never repeats: they have no idempotency token, so after a lost answer a second
 * attempt would create a second resource. Their callers look the resource up before trying again
 * (lib/aws/ivs.ts createIvsChannel; ensure-input's security group, found by tag when the state
 * re-runs the task). MediaLive CreateChannel and CreateInput carry deterministic RequestIds, and
 * every other call castflow makes is a read, or converges when repeated (start, stop, delete,
 * update to the same settings, tag): those are retried.
 */
export const SINGLE_ATTEMPT_COMMANDS = {
  ivs: ["CreateChannelCommand"],
  medialive: ["CreateInputSecurityGroupCommand"],
  // CreateFlow has no client token: the source API looks the flow up by name before creating it again.
  mediaconnect: ["CreateFlowCommand"],
  ssm: [],
} as const;

/**
 * Errors the Lambda service raises instead of the function's answer; AWS recommends retrying the
 * first four (aws-facts.md). A function that timed out is reported with the runtime's error type
 * `Sandbox.Timedout` (Lambda's Invoke answers `{"errorType":"Sandbox.Timedout","errorMessage":
 * "RequestId: ... Error: Task timed out after 30.00 seconds"}`, and the lambda:invoke integration
 * names the error after errorType); the Step Functions guide ("Handle Lambda service exceptions")
 * still names timeouts and out-of-memory `Lambda.Unknown`. Both are retried: every task is
 * idempotent, so running one again after it died half-way is safe (`npm run chaos` injects such
 * crashes after the task's AWS calls took effect).
 */
export const LAMBDA_SERVICE_ERRORS: readonly string[] = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  ...(isOld ? [] : ["Sandbox.Timedout", "Lambda.Unknown"]),
];

/** Throttling and server-side errors of the AWS APIs the tasks call (MediaLive, IVS, SSM, DynamoDB). */
export const TRANSIENT_AWS_ERRORS: readonly string[] = [
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
  // IVS names its 503 `ServiceUnavailable` (service model), not ...Exception.
  ...(isOld ? [] : ["ServiceUnavailable"]),
  "StreamUnavailable",
  "TimeoutError",
  "NetworkError",
];

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
/** A flow being updated that cannot be stopped yet: waited out like a channel. */
export const FLOW_NOT_READY_RETRY: RetryPolicy = {
  errors: ["FlowNotReady"],
  intervalSeconds: 5,
  maxAttempts: 20,
  backoffRate: 1.2,
  maxDelaySeconds: 15,
  jitter: false,
};

/**
 * An input MediaLive is still creating (seconds) or still detaching from a deleted channel: the
 * first look again after 1 s, then less often; about 6 minutes in all (InputDetached: 7 min).
 */
export const INPUT_NOT_READY_RETRY: RetryPolicy = {
  errors: ["InputNotReady"],
  intervalSeconds: 1,
  maxAttempts: 30,
  backoffRate: 1.5,
  maxDelaySeconds: 15,
  jitter: false,
};

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
  // Five minutes past go-live's timeout: its record is settled by then.
  maxAttempts: attemptsCovering({ intervalSeconds: 30, backoffRate: 1 }, (GO_LIVE_TIMEOUT_MINUTES + 5) * 60),
  backoffRate: 1,
  jitter: false,
};

/**
 * A shared-channel-apply that finds another holding the channel waits for it to let go, then
 * claims and plans once more: so it ends only when the change that started it has been applied.
 * It waits as long as the holder may hold the channel while still leaving itself a whole pass (a
 * destination lifecycle's worst case) before its own timeout (both run
 * SHARED_APPLY_TIMEOUT_MINUTES): four hours. Every 5 s, then less often up to every 30 s, without
 * jitter, so the attempts surely cover that time (a restart usually costs a few retries).
 */
const SHARED_CHANNEL_BUSY_DELAYS = { intervalSeconds: 5, backoffRate: 1.2, maxDelaySeconds: 30 };
export const SHARED_CHANNEL_BUSY_RETRY: RetryPolicy = {
  errors: ["SharedChannelBusy"],
  ...SHARED_CHANNEL_BUSY_DELAYS,
  maxAttempts: attemptsCovering(
    SHARED_CHANNEL_BUSY_DELAYS,
    (SHARED_APPLY_TIMEOUT_MINUTES - DESTINATION_TIMEOUT_MINUTES) * 60,
  ),
  jitter: false,
};

/**
 * The attempts of a retry without jitter whose waits add up to at least `seconds`: a wait for
 * another execution, for as long as that one may run.
 */
function attemptsCovering(
  delays: Pick<RetryPolicy, "intervalSeconds" | "backoffRate" | "maxDelaySeconds">,
  seconds: number,
): number {
  let attempts = 0;
  for (let waited = 0, delay = delays.intervalSeconds; waited < seconds; attempts++) {
    waited += Math.min(delay, delays.maxDelaySeconds ?? Number.POSITIVE_INFINITY);
    delay *= delays.backoffRate;
  }
  return attempts;
}

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

/** Another execution is creating the shared input security group: wait for it (about 2 minutes). */
export const SHARED_RESOURCE_PENDING_RETRY: RetryPolicy = {
  errors: ["SharedResourcePending"],
  intervalSeconds: 3,
  maxAttempts: 20,
  backoffRate: 1.2,
  maxDelaySeconds: 10,
  jitter: true,
};
