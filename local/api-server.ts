import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { bearerToken, unauthorized } from "#api/auth.ts";
import { route } from "#api/handler.ts";
import { isPublicRoute } from "#api/public-routes.ts";
import { TokenRejectedError } from "#api/token-rejection.ts";
import type { ClaimsVerifier } from "./dev-issuer.ts";
import { type Principal, runAs } from "./iam.ts";

/** API Gateway's own payload limit is 10 MB; the local server stops reading well before that. */
const MAX_READ_BYTES = 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Refusing a request whose body is still arriving (413, or 401 before the body was read) leaves
 * unread bytes on the connection, so it cannot carry another request. Like nginx (lingering_close:
 * discard what the client still sends) and Go's net/http (FIN, then a pause before closing),
 * answer at once with `connection: close`, then, after the answer is flushed, half-close and keep
 * discarding what the client still sends until it has sent the whole body, or for at most
 * LINGER_MS / LINGER_BYTES. Draining before answering would let a client make the server read
 * (and wait) as long as it likes before it learns the request failed; closing at once would make
 * the kernel reset the connection over the unread bytes, and the reset can destroy the answer
 * before the client has read it. A keep-alive client (Node's fetch) sees `connection: close` and
 * opens a new connection for its next request.
 */
const LINGER_MS = 2_000;
const LINGER_BYTES = 10 * 1024 * 1024;

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  req.resume(); // discard whatever of the body is buffered or still to come
  // A request without a body (a GET refused synchronously, before the parser has marked it
  // complete) or whose whole body has arrived leaves nothing unread: the connection can carry the
  // next request.
  const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"]) > 0;
  if (req.complete || !hasBody) {
    send(res, status, body, headers);
    return;
  }
  const socket = req.socket;
  // Node calls socket.destroySoon() once a `connection: close` response has been handed to the
  // socket; its default (end, then destroy as soon as the FIN is written) is the abrupt close above.
  socket.destroySoon = () => {
    let flushed = false;
    let received = 0;
    const stop = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const stopIfDone = () => {
      if (flushed && req.complete) stop();
    };
    const timer = setTimeout(stop, LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    // Runs after the HTTP parser's own listener, so req.complete already counts this chunk.
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > LINGER_BYTES) stop();
      else stopIfDone();
    });
    req.once("end", stopIfDone);
    socket.once("end", stop); // the client has closed its side: nothing more to read
    socket.end(() => {
      flushed = true;
      stopIfDone();
    });
  };
  send(res, status, body, { ...headers, connection: "close" });
}

/** Reads up to MAX_READ_BYTES; past that, stops collecting (the caller refuses the request). */
function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_READ_BYTES) {
        // Not `return` out of a for-await loop: that destroys the request, and with it the
        // socket, before the 413 is written.
        cleanup();
        resolve("too-large");
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("The request was closed before its body was complete"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * The `www-authenticate` header of a 401, in the form API Gateway's JWT authorizer answers it
 * (`Bearer scope="" error="invalid_token" error_description="..."`); a request without a
 * token gets a bare `Bearer` challenge (RFC 6750).
 */
function challenge(rejection: TokenRejectedError): string {
  if (rejection.reason === "missing_header") return "Bearer";
  const description = rejection.message.replace(/["\\]/g, "'");
  return `Bearer scope="" error="invalid_token" error_description="${description}"`;
}

/**
 * Serves the castflow HTTP API locally: the same handler API Gateway invokes, behind a JWT check
 * equivalent to API Gateway's JWT authorizer (401 without a valid bearer token, before the
 * handler runs; public routes such as GET /health skip it, as their stack routes have no
 * authorizer), turning each request into an HTTP API (payload 2.0) event. Where API Gateway
 * answers only `{"message":"Unauthorized"}` and a `www-authenticate` header, the 401 body here
 * says why in one sentence, with `details.reason`. With a principal, the handler's AWS calls are
 * limited to what the API function is granted in the stack.
 */
export function createApiServer(verify: ClaimsVerifier, principal?: Principal): Server {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      // Public routes (GET /health) have no authorizer in the stack: no token is read.
      let claims: Record<string, unknown> | undefined;
      if (!isPublicRoute(req.method ?? "GET", url.pathname)) {
        try {
          claims = await verify(bearerToken(req.headers.authorization));
        } catch (err) {
          const rejection =
            err instanceof TokenRejectedError
              ? err
              : new TokenRejectedError("invalid", "The bearer token is not valid.");
          const { code, message, details } = unauthorized(rejection);
          refuse(
            req,
            res,
            401,
            { error: { code, message, details } },
            { "www-authenticate": challenge(rejection) },
          );
          return;
        }
      }
      const body = await readBody(req);
      if (body === "too-large") {
        refuse(req, res, 413, {
          error: { code: "payload_too_large", message: "The request body is too large" },
        });
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
          ...(claims
            ? { authorizer: { principalId: "", integrationLatency: 0, jwt: { claims, scopes: [] } } }
            : {}),
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
