import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { ApiError } from "./http.ts";

export interface Caller {
  readonly userId: string;
  readonly isAdmin: boolean;
}

/** The group that makes a caller an admin (Cognito puts groups in `cognito:groups`). */
export const ADMIN_GROUP = "admin";

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
    throw new ApiError(401, "unauthorized", "A valid bearer token with a subject is required");
  }
  const groups = [...groupsOf(claims["cognito:groups"]), ...groupsOf(claims.groups)];
  return { userId: sub, isAdmin: groups.includes(ADMIN_GROUP) };
}
