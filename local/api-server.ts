import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { route } from "../api/handler.ts";
import type { ClaimsVerifier } from "./dev-issuer.ts";
import { type Principal, runAs } from "./iam.ts";

/** API Gateway's own payload limit is 10 MB; the local server stops reading well before that. */
const MAX_READ_BYTES = 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_READ_BYTES) return "too-large";
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Serves the castflow HTTP API locally: the same handler API Gateway invokes, behind a JWT check
 * equivalent to API Gateway's JWT authorizer (401 without a valid bearer token, before the
 * handler runs), turning each request into an HTTP API (payload 2.0) event. With a principal, the
 * handler's AWS calls are limited to what the API function is granted in the stack.
 */
export function createApiServer(verify: ClaimsVerifier, principal?: Principal): Server {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const auth = req.headers.authorization ?? "";
      const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
      let claims: Record<string, unknown>;
      try {
        if (!token) throw new Error("missing");
        claims = await verify(token);
      } catch {
        send(
          res,
          401,
          { error: { code: "unauthorized", message: "A valid bearer token is required" } },
          {
            "www-authenticate": "Bearer",
          },
        );
        return;
      }
      const body = await readBody(req);
      if (body === "too-large") {
        send(res, 413, { error: { code: "payload_too_large", message: "The request body is too large" } });
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === "string") headers[k.toLowerCase()] = v;
      const now = new Date();
      const event = {
        version: "2.0",
        routeKey: "$default",
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        queryStringParameters: Object.fromEntries(url.searchParams),
        requestContext: {
          accountId: "000000000000",
          apiId: "local",
          domainName: url.host,
          domainPrefix: "local",
          http: {
            method: req.method ?? "GET",
            path: url.pathname,
            protocol: "HTTP/1.1",
            sourceIp: req.socket.remoteAddress ?? "",
            userAgent: req.headers["user-agent"] ?? "",
          },
          requestId: randomUUID(),
          routeKey: "$default",
          stage: "$default",
          time: now.toISOString(),
          timeEpoch: now.getTime(),
          authorizer: { principalId: "", integrationLatency: 0, jwt: { claims, scopes: [] } },
        },
        body: body.length > 0 ? body.toString("utf8") : undefined,
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
      const invoke = () => route(event);
      const result = (await (principal
        ? runAs(principal, invoke)
        : invoke())) as APIGatewayProxyStructuredResultV2;
      res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
      res.end(result.body ?? "");
    } catch (err) {
      send(res, 500, { error: { code: "internal", message: "Internal error" } });
      console.error("local API server error", err);
    }
  });
}
