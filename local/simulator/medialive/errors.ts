import { AwsError } from "#local/simulator/http.ts";

/** Error names and statuses from the MediaLive service model (aws-facts.md, SDK `httpError` traits). */
export const ERROR_STATUS: Record<string, number> = {
  BadRequestException: 400,
  ForbiddenException: 403,
  NotFoundException: 404,
  ConflictException: 409,
  UnprocessableEntityException: 422,
  TooManyRequestsException: 429,
  InternalServerErrorException: 500,
  BadGatewayException: 502,
  ServiceUnavailableException: 503,
  GatewayTimeoutException: 504,
};

/** A MediaLive error: its wire name, the status the service model gives it, and a message. */
export const mlError = (name: keyof typeof ERROR_STATUS & string, message: string) =>
  new AwsError(name, ERROR_STATUS[name] ?? 400, message);

export interface ValidationError {
  elementPath: string;
  errorMessage: string;
}

/** An UnprocessableEntityException carrying `validationErrors`, as MediaLive reports bad channel specs. */
export class ChannelValidationError extends AwsError {
  constructor(errors: ValidationError[]) {
    super("UnprocessableEntityException", 422, "Failed to create or update channel: validation errors", {
      validationErrors: errors.map((e) => ({ elementPath: e.elementPath, errorMessage: e.errorMessage })),
    });
  }
}

/**
 * The answer to a create beyond an account quota (CreateChannel, CreateInput of a push type,
 * CreateInputSecurityGroup).
 *
 * Evidence (no public source quotes a real MediaLive quota-breach response):
 * - The MediaLive service model has no quota-specific error (unlike IVS's
 *   `ServiceQuotaExceededException` 402 or MediaConnect's `CreateFlow420Exception`). The only
 *   "limit" error these operations declare is `TooManyRequestsException` 429, documented as
 *   "Request limit exceeded on create channel calls to channel service." (CreateChannel),
 *   "Limit exceeded" (CreateInput), "Limit Exceeded Error" (CreateInputSecurityGroup)
 *   (botocore medialive/2017-10-14/service-2.json, as rendered in aws/aws-sdk-java
 *   AWSMediaLive.java). The REST API reference gives POST /prod/inputSecurityGroups the response
 *   `429 LimitExceeded` with body `{"message": string}`
 *   (docs.aws.amazon.com/medialive/latest/apireference/inputsecuritygroups.html).
 * - The same wording is attached to read operations (DescribeInput: "Limit exceeded"), so it also
 *   stands for plain throttling: a quota breach and a throttle most likely share name and status.
 * - A sister Elemental service answers a quota breach with 429: MediaConvert UpdateQueue over its
 *   concurrent-jobs quota (hashicorp/terraform-provider-aws PR #41012 and issue #41013: "The API
 *   returns a quota exception as a 429 error", retried for an hour as throttling).
 * So the name and status follow the model (likely); the message wording is ours (*unverified*).
 * It says "Limit exceeded" and names the quota so that a client can tell a breach from
 * throttling. Retrying cannot succeed until a resource is deleted or the quota raised.
 */
export function quotaExceeded(quota: QuotaName, limit: number, region: string): AwsError {
  const { noun, serviceQuota } = QUOTA_WORDING[quota];
  return mlError(
    "TooManyRequestsException",
    `Limit exceeded: this account has reached its quota of ${limit} ${noun} in ${region} ` +
      `(MediaLive service quota "${serviceQuota}"). Delete unused ${noun} or request a quota increase.`,
  );
}

export type QuotaName = "channels" | "pushInputs" | "inputSecurityGroups";

/** Quota names as the MediaLive user guide ("Quotas in MediaLive") lists them. */
const QUOTA_WORDING: Record<QuotaName, { noun: string; serviceQuota: string }> = {
  channels: { noun: "channels", serviceQuota: "Channels" },
  pushInputs: { noun: "push inputs", serviceQuota: "Inputs of type push (not including VPC push inputs)" },
  inputSecurityGroups: { noun: "input security groups", serviceQuota: "Input security groups" },
};
