import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { JsonObject } from "./store.ts";

/** Service names as they appear in the SigV4 credential scope (the SDK clients' signing names). */
export type ServiceName = "medialive" | "ivs" | "ssm" | "mediaconnect";
export const SERVICE_NAMES: readonly ServiceName[] = ["medialive", "ivs", "ssm", "mediaconnect"];

export type Protocol = "restJson1" | "awsJson1_1";

/** An error the simulated service answers with; `name` is the AWS error code the SDK exposes as `err.name`. */
export class AwsError extends Error {
  constructor(
    name: string,
    readonly status: number,
    message: string,
    /** Extra members of the error body (e.g. MediaLive `validationErrors`). */
    readonly extra: JsonObject = {},
  ) {
    super(message);
    this.name = name;
  }
}

/** Malformed request JSON: answered like AWS's front end does, before any operation runs. */
export class SerializationError extends AwsError {
  constructor(message: string) {
    super("SerializationException", 400, message);
  }
}

export interface OperationMatch {
  operation: string;
  /** Decoded path labels (restJson1). */
  params: Record<string, string>;
}

export interface OperationCall {
  operation: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: JsonObject;
}

export interface OperationResult {
  status: number;
  body?: JsonObject;
}

export interface ServiceHandler {
  readonly name: ServiceName;
  readonly protocol: Protocol;
  readonly operations: readonly string[];
  /** The HTTP status AWS uses for an error name, for fault injection; undefined = not an error of this service. */
  errorStatus(errorName: string): number | undefined;
  match(method: string, pathname: string, headers: IncomingMessage["headers"]): OperationMatch | undefined;
  invoke(call: OperationCall): OperationResult;
}

/** One restJson1 route: method, path template with `{Label}` segments, operation, success status. */
export interface RestRoute {
  method: string;
  path: string;
  operation: string;
  status: number;
}

/** Match a path against restJson1 routes. Labels are single segments (the SDK encodes `/` in ARNs as %2F). */
export function matchRest(
  routes: readonly RestRoute[],
  method: string,
  pathname: string,
): OperationMatch | undefined {
  const segs = pathname.split("/").filter((s) => s !== "");
  for (const r of routes) {
    if (r.method !== method) continue;
    const tpl = r.path.split("/").filter((s) => s !== "");
    if (tpl.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    tpl.forEach((t, i) => {
      const seg = segs[i] ?? "";
      if (t.startsWith("{") && t.endsWith("}")) params[t.slice(1, -1)] = decodeURIComponent(seg);
      else if (t !== seg) ok = false;
    });
    if (ok) return { operation: r.operation, params };
  }
  return undefined;
}

/** Which service a request is for: the SigV4 credential scope, else path / X-Amz-Target heuristics. */
export function detectService(req: IncomingMessage, pathname: string): ServiceName | undefined {
  const auth = req.headers.authorization ?? "";
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  const svc = scope?.[1];
  if (svc && (SERVICE_NAMES as readonly string[]).includes(svc)) return svc as ServiceName;
  const target = req.headers["x-amz-target"];
  if (typeof target === "string" && target.startsWith("AmazonSSM.")) return "ssm";
  if (pathname.startsWith("/prod/")) return "medialive";
  if (
    /^\/[A-Z][A-Za-z]+$/.test(pathname) ||
    pathname.startsWith("/tags/arn:aws:ivs") ||
    pathname.startsWith("/tags/arn%3Aaws%3Aivs")
  )
    return "ivs";
  return undefined;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Parse a JSON object body; an empty body is `{}`. */
export function parseJsonBody(text: string): JsonObject {
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SerializationError(`Request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new SerializationError("Request body must be a JSON object");
  return v as JsonObject;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const requestId = randomUUID();
  if (status === 204 || body === undefined) {
    res.writeHead(status, { "x-amzn-RequestId": requestId, ...headers });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "x-amzn-RequestId": requestId,
    ...headers,
  });
  res.end(text);
}

/**
 * Write an error the way the protocol does: restJson1 puts the code in `x-amzn-ErrorType` and
 * `{message}` in the body; awsJson1_1 puts it in `__type`. IVS models its message member as
 * `exceptionMessage`, so restJson bodies carry both names (the SDK reads `message`).
 */
export function sendError(res: ServerResponse, protocol: Protocol, err: AwsError): void {
  if (protocol === "awsJson1_1") {
    sendJson(
      res,
      err.status,
      { __type: err.name, message: err.message, ...err.extra },
      { "x-amzn-ErrorType": err.name, "Content-Type": "application/x-amz-json-1.1" },
    );
    return;
  }
  sendJson(
    res,
    err.status,
    { message: err.message, exceptionMessage: err.message, ...err.extra },
    { "x-amzn-ErrorType": err.name },
  );
}
