import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { route } from "#api/handler.ts";
import { channelKey, hostKey, type PersistentChannel } from "#lib/channels/model.ts";

export const HOST = "user-host";
export const ADMIN_CLAIMS: Claims = { sub: "admin-user", groups: ["admin"] };
export type Claims = Record<string, string | number | boolean | string[]>;

export interface RequestOptions {
  /** Sent as JSON (with content-type application/json). */
  readonly body?: unknown;
  /** Sent as it is, for malformed or non-JSON bodies. */
  readonly rawBody?: string;
  readonly contentType?: string;
  readonly claims?: Claims;
}

/** An API Gateway HTTP API event as the JWT authorizer hands it over. */
export function request(
  method: string,
  path: string,
  opts: RequestOptions = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const body = opts.rawBody ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  const contentType = opts.contentType ?? (opts.body !== undefined ? "application/json" : undefined);
  const headers: Record<string, string> = { host: "api.example.com" };
  if (contentType !== undefined) headers["content-type"] = contentType;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers,
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
    requestContext: {
      accountId: "000000000000",
      apiId: "api",
      authorizer: {
        principalId: "",
        integrationLatency: 0,
        jwt: { claims: opts.claims ?? { sub: HOST }, scopes: [] },
      },
      domainName: "api.example.com",
      domainPrefix: "api",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "198.51.100.1", userAgent: "vitest" },
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2025:00:00:00 +0000",
      timeEpoch: 0,
    },
  };
}

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/** Calls the API and returns the status, the parsed and raw body, and the headers. */
export async function call(event: APIGatewayProxyEventV2WithJWTAuthorizer) {
  const res = (await route(event)) as APIGatewayProxyStructuredResultV2;
  const raw = res.body ?? "null";
  const body = JSON.parse(raw) as Record<string, unknown>;
  return {
    status: res.statusCode,
    body,
    raw,
    headers: res.headers,
    error: (body as { error?: ApiErrorBody }).error,
  };
}

export const CHANNEL_ID = "pers1";

export function makeChannel(overrides: Partial<PersistentChannel> = {}): PersistentChannel {
  return {
    channelId: CHANNEL_ID,
    channelArn: `arn:aws:ivs:us-east-1:000000000000:channel/${CHANNEL_ID}`,
    name: "host-a",
    hostUserId: HOST,
    state: "IDLE",
    playbackUrl: "https://pers1.playback.live-video.net/pers1.m3u8",
    ingestEndpoint: "pers1.global-contribute.live-video.net",
    totalBroadcasts: 0,
    totalStreamingMinutes: 0,
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    version: 1,
    ...overrides,
  };
}

/** Stored items (key attributes included) for GetCommand/UpdateCommand answers. */
export const channelItem = (c: PersistentChannel) => ({ ...channelKey(c.channelId), ...c });
export const assignmentItem = (hostUserId: string, channelId: string) => ({
  ...hostKey(hostUserId),
  hostUserId,
  channelId,
  assignedAt: "2025-01-01T00:00:00.000Z",
});
