import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { ApiError } from "./http.ts";
import { TokenRejectedError } from "./token-rejection.ts";

export interface Caller {
  readonly userId: string;
  readonly isAdmin: boolean;
}

/** The group that makes a caller an admin (Cognito puts groups in `cognito:groups`). */
export const ADMIN_GROUP = "admin";

const BEARER_HINT = "send Authorization: Bearer <token>";

/**
 * The bearer token of an Authorization header value, or the reason there is none usable: the
 * local API server's first check, as API Gateway's authorizer makes it.
 */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === "") {
    throw new TokenRejectedError("missing_header", `The Authorization header is missing; ${BEARER_HINT}.`);
  }
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (!token) {
    throw new TokenRejectedError(
      "not_bearer",
      `The Authorization header is not a Bearer token; ${BEARER_HINT}.`,
    );
  }
  return token;
}

/** The 401 the API answers for a refused token: `{"error": {"code": "unauthorized", "message", "details": {"reason"}}}`. */
export const unauthorized = (rejection: TokenRejectedError) =>
  new ApiError(401, "unauthorized", rejection.message, { reason: rejection.reason });

/**
 * API Gateway's HTTP API flattens array claims to strings like "[admin editors]"; local tokens
 * pass real arrays. Both are accepted.
 */
function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim === "string") {
    return claim
      .replace(/^\[|\]$/g, "")
      .split(/[\s,]+/)
      .filter(Boolean);
  }
  return [];
}

/** The caller, from the claims API Gateway's JWT authorizer (or the local runtime) verified. */
export function callerOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): Caller {
  const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
  const sub = claims.sub;
  if (typeof sub !== "string" || sub.length === 0) {
    throw unauthorized(
      new TokenRejectedError("no_subject", "The token has no subject (sub claim) to act as."),
    );
  }
  const groups = [...groupsOf(claims["cognito:groups"]), ...groupsOf(claims.groups)];
  return { userId: sub, isAdmin: groups.includes(ADMIN_GROUP) };
}
