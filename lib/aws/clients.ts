import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IvsClient } from "@aws-sdk/client-ivs";
import { MediaLiveClient } from "@aws-sdk/client-medialive";
import { SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { StandardRetryStrategy } from "@smithy/core/retry";
import type { RetryErrorInfo, StandardRetryToken } from "@smithy/types";
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

type Middleware = Parameters<MediaLiveClient["middlewareStack"]["addRelativeTo"]>[0];

/** What the middleware below tells the strategy about a failed call: its command, and whether it may be repeated. */
const CALL = Symbol("castflow.call");
interface FailedCall {
  readonly command: string;
  readonly singleAttempt: boolean;
}

/**
 * The SDK's own standard retry strategy (its error classification, backoff and retry capacity),
 * up to `maxAttempts`, refusing two kinds of retry: a call marked single-attempt, and a create
 * refused because a quota is reached (a 429 that names the quota: lib/aws/medialive.ts
 * asQuotaError; repeating it cannot help). Each retry is logged: Step Functions' history shows
 * only what a task's own retries could not absorb.
 */
class MediaRetryStrategy extends StandardRetryStrategy {
  override async refreshRetryTokenForRetry(
    token: StandardRetryToken,
    info: RetryErrorInfo,
  ): Promise<StandardRetryToken> {
    const call = (info.error as { [CALL]?: FailedCall } | undefined)?.[CALL];
    if (call?.singleAttempt || /quota/i.test(info.error?.message ?? "")) {
      throw new Error("No retry for this call");
    }
    const next = await super.refreshRetryTokenForRetry(token, info);
    logger.warn("Retrying an AWS call", {
      command: call?.command,
      error: info.error?.name,
      attempt: next.getRetryCount() + 1,
      delayMs: next.getRetryDelay(),
    });
    return next;
  }
}

/** Client options of MediaLive and IVS alike (their config types differ only by service). */
function mediaClientConfig() {
  return { maxAttempts: SDK_MAX_ATTEMPTS, retryStrategy: new MediaRetryStrategy(SDK_MAX_ATTEMPTS) };
}

/**
 * Adds a middleware inside the SDK's retry loop that tells the strategy above which command
 * failed, and that one of `commands` must not be repeated.
 */
function withSingleAttemptCommands<C extends MediaLiveClient | IvsClient>(
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
