import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IvsClient } from "@aws-sdk/client-ivs";
import { MediaConnectClient } from "@aws-sdk/client-mediaconnect";
import { MediaLiveClient, type MediaLiveClientConfig } from "@aws-sdk/client-medialive";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { logger } from "#lib/logger.ts";
import { SDK_MAX_ATTEMPTS, SINGLE_ATTEMPT_COMMANDS } from "#state-machines/workflow/retry.ts";

/**
 * One client per service per process, created on first use. Endpoints come from the standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables, which is how the local runtime points the very same
 * handlers at its stand-ins.
 *
 * Media clients retry a throttled, 5xx or network failure of one call up to `SDK_MAX_ATTEMPTS`
 * times in all, with the SDK's standard-mode backoff, except the calls in
 * `SINGLE_ATTEMPT_COMMANDS`, which have no idempotency token and are tried once (their callers
 * look the resource up before trying again). What is left is retried by the state machines
 * (state-machines/workflow/retry.ts explains the two layers).
 */
let medialiveClient: MediaLiveClient | undefined;
let ivsClient: IvsClient | undefined;
let mediaconnectClient: MediaConnectClient | undefined;
let ssmClient: SSMClient | undefined;
let sfnClient: SFNClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;

export const medialive = () => {
  medialiveClient ??= withSingleAttemptCommands(
    new MediaLiveClient(mediaClientConfig()),
    SINGLE_ATTEMPT_COMMANDS.medialive,
  );
  return medialiveClient;
};

export const ivs = () => {
  ivsClient ??= withSingleAttemptCommands(new IvsClient(mediaClientConfig()), SINGLE_ATTEMPT_COMMANDS.ivs);
  return ivsClient;
};

export const mediaconnect = () => {
  mediaconnectClient ??= withSingleAttemptCommands(
    new MediaConnectClient(mediaClientConfig()),
    SINGLE_ATTEMPT_COMMANDS.mediaconnect,
  );
  return mediaconnectClient;
};

/** Stream keys live in SSM: its client retries like the media clients (every call here is idempotent). */
export const ssm = () => {
  ssmClient ??= withSingleAttemptCommands(new SSMClient(mediaClientConfig()), SINGLE_ATTEMPT_COMMANDS.ssm);
  return ssmClient;
};

export const sfn = () => {
  sfnClient ??= new SFNClient({});
  return sfnClient;
};

export const dynamo = () => {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
};

// --- the media clients' retry strategy ---

type RetryStrategyV2 = Extract<
  NonNullable<MediaLiveClientConfig["retryStrategy"]>,
  { acquireInitialRetryToken: unknown }
>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2["acquireInitialRetryToken"]>>;
type RetryErrorInfo = Parameters<RetryStrategyV2["refreshRetryTokenForRetry"]>[1];
type Middleware = Parameters<MediaLiveClient["middlewareStack"]["addRelativeTo"]>[0];

/** What the middleware below tells the strategy about a failed call: its command, and whether it may be repeated. */
const CALL = Symbol("castflow.call");
interface FailedCall {
  readonly command: string;
  readonly singleAttempt: boolean;
}

/** The SDK's standard-mode backoff constants (@smithy/core retry: 100 ms, 500 ms when throttled, at most 20 s). */
const BASE_DELAY_MS = 100;
const THROTTLING_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;

const token = (retryCount: number, retryDelay: number): RetryToken => ({
  getRetryCount: () => retryCount,
  getRetryDelay: () => retryDelay,
});

/**
 * The SDK's standard-mode retry decision and backoff (retry throttling and transient errors as
 * the SDK classifies them: 429 and throttling names, 500/502/503/504, timeouts and socket
 * errors; exponential backoff with full jitter), up to `maxAttempts`, never for a call marked
 * single-attempt. No client-wide retry quota: a Lambda container runs one task at a time.
 *
 * Not the SDK's own StandardRetryStrategy (@smithy/core/retry), tried and measured: its retry
 * capacity (500 tokens, 5 a retry) is shared by every task of a process, and in the local runtime
 * it ran dry at a 30% fault rate, leaving 3 of 48 lifecycles failed (45/48, against 48/48 with
 * this strategy in six runs).
 */
class MediaRetryStrategy implements RetryStrategyV2 {
  constructor(private readonly maxAttempts: number) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retries = previous.getRetryCount();
    // A create refused for a reached quota arrives as throttling (429) but naming the quota:
    // repeating it cannot help (lib/aws/medialive.ts asQuotaError).
    const quota = /quota/i.test(info.error?.message ?? "");
    const retryable = (info.errorType === "THROTTLING" || info.errorType === "TRANSIENT") && !quota;
    const call = (info.error as { [CALL]?: FailedCall } | undefined)?.[CALL];
    if (!retryable || call?.singleAttempt || retries + 1 >= this.maxAttempts) {
      throw new Error("No retry left for this call");
    }
    const base = info.errorType === "THROTTLING" ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    const backoff = Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** retries);
    const hinted = info.retryAfterHint ? info.retryAfterHint.getTime() - Date.now() : 0;
    const delayMs = Math.min(MAX_DELAY_MS, Math.max(backoff, hinted));
    // Step Functions' history shows only what a task's own retries could not absorb: log these.
    logger.warn("Retrying an AWS call", {
      command: call?.command,
      error: info.error?.name,
      attempt: retries + 2,
      delayMs: Math.round(delayMs),
    });
    return token(retries + 1, delayMs);
  }

  recordSuccess(): void {}
}

/** Client options of MediaLive and IVS alike (their config types differ only by service). */
function mediaClientConfig() {
  return { maxAttempts: SDK_MAX_ATTEMPTS, retryStrategy: new MediaRetryStrategy(SDK_MAX_ATTEMPTS) };
}

/**
 * Adds a middleware inside the SDK's retry loop that tells the strategy above which command
 * failed, and that one of `commands` must not be repeated.
 */
function withSingleAttemptCommands<C extends MediaLiveClient | IvsClient | MediaConnectClient | SSMClient>(
  client: C,
  commands: readonly string[],
): C {
  const describeFailure =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown) => {
      try {
        return await next(args);
      } catch (err) {
        if (err && typeof err === "object") {
          const command = context.commandName ?? "";
          const call: FailedCall = { command, singleAttempt: commands.includes(command) };
          Object.defineProperty(err, CALL, { value: call, configurable: true });
        }
        throw err;
      }
    };
  (client as MediaLiveClient).middlewareStack.addRelativeTo(describeFailure as Middleware, {
    name: "castflowDescribeFailureMiddleware",
    relation: "after",
    toMiddleware: "retryMiddleware",
    override: true,
  });
  return client;
}
