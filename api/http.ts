import type { APIGatewayProxyResultV2 } from "aws-lambda";

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
/** 400 naming one field and why, in the message and in `details.fields` (as body validation does). */
export const fieldError = (field: string, reason: string) =>
  badRequest(`${field}: ${reason}`, { fields: [{ field, reason }] });
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
