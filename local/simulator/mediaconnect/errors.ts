import { AwsError } from "#local/simulator/http.ts";

/**
 * Error names and HTTP statuses from the MediaConnect service model
 * (botocore/data/mediaconnect/2018-11-14/service-2.json, `error.httpStatusCode` of each
 * exception shape; the same in @aws-sdk/client-mediaconnect). All carry one member, `Message`
 * (wire name `message`).
 */
export const ERROR_STATUS: Record<string, number> = {
  BadRequestException: 400,
  ForbiddenException: 403,
  NotFoundException: 404,
  ConflictException: 409,
  AddFlowOutputs420Exception: 420,
  CreateFlow420Exception: 420,
  GrantFlowEntitlements420Exception: 420,
  TooManyRequestsException: 429,
  InternalServerErrorException: 500,
  ServiceUnavailableException: 503,
};

export type McErrorName = keyof typeof ERROR_STATUS & string;

export const mcError = (name: McErrorName, message: string) =>
  new AwsError(name, ERROR_STATUS[name] ?? 400, message);
