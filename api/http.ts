import type { APIGatewayProxyResultV2 } from "aws-lambda";
import type * as z from "zod";
import { fieldSentence, issueFields } from "#tasks/define.ts";

/** An error the API answers with: `{"error": {"code", "message", "details"?}}` and its status. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new ApiError(400, "bad_request", message, details);
/**
 * 400 naming one field and why, as a sentence in the message ("days must be a whole number of
 * days from 1 to 90") and in `details.fields` (as body validation does).
 */
export const fieldError = (field: string, reason: string) =>
  badRequest(fieldSentence({ field, reason }), { fields: [{ field, reason }] });
/**
 * 400 for a value zod refused: every field named once with its reason, the message their
 * sentences ("showId is required; name must be at most 64 characters"), `details.fields` the
 * same as `{field, reason}`. `root` names the value itself; `input` lets an absent field read
 * "is required".
 */
export function validationError(error: z.ZodError, input: unknown, root = "body"): ApiError {
  const fields = issueFields(error, { root, input });
  return badRequest(fields.map(fieldSentence).join("; "), { fields });
}
export const notFound = (what: string) => new ApiError(404, "not_found", `${what} not found`);
export const conflict = (message: string, details?: unknown) =>
  new ApiError(409, "conflict", message, details);

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResultV2 {
  return {
    statusCode: status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(err: ApiError): APIGatewayProxyResultV2 {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.details !== undefined) error.details = err.details;
  const headers: Record<string, string> =
    err.status === 503 || err.status === 429 ? { "retry-after": "5" } : {};
  return json(err.status, { error }, headers);
}
