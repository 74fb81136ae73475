/**
 * AWS JSON 1.0 protocol plumbing: `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`,
 * JSON bodies both ways, errors as HTTP 400 `{"__type": "<Code>", "message": ...}`. The SDK reads
 * the code from `__type` (keeping what follows a '#' and dropping what follows a ':'), so a bare
 * code such as `ExecutionAlreadyExists` becomes the client error's `name`.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type * as z from "zod";
import { SfnApiError } from "./errors.ts";

export const TARGET_PREFIX = "AWSStepFunctions.";
const CONTENT_TYPE = "application/x-amz-json-1.0";
/** Far above SFN's 256 KiB input limit, low enough to stop a runaway client. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export type Operation = (input: Record<string, unknown>) => unknown;

/** Parses a request with zod; a failure is AWS's ValidationException naming the member paths. */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "request"}: ${issue.message}`)
    .join("; ");
  throw new SfnApiError("ValidationException", `1 or more validation errors: ${details}`);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": CONTENT_TYPE,
    "Content-Length": Buffer.byteLength(text),
    "x-amzn-RequestId": randomUUID(),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: SfnApiError): void {
  send(res, error.statusCode, { __type: error.name, message: error.message });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SfnApiError("ValidationException", "Request body too large", 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function dispatch(
  operations: Readonly<Record<string, Operation>>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "POST") {
    throw new SfnApiError("UnknownOperationException", `Unsupported method ${req.method ?? ""}`, 404);
  }
  const body = await readBody(req);
  const target = req.headers["x-amz-target"];
  const operationName =
    typeof target === "string" && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : undefined;
  const operation = operationName === undefined ? undefined : operations[operationName];
  if (operation === undefined) {
    throw new SfnApiError(
      "UnknownOperationException",
      `Unknown operation ${String(target ?? "(no X-Amz-Target)")}`,
    );
  }
  let input: unknown;
  try {
    input = body.trim() === "" ? {} : JSON.parse(body);
  } catch {
    throw new SfnApiError("SerializationException", "Request body is not valid JSON");
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SfnApiError("SerializationException", "Request body must be a JSON object");
  }
  send(res, 200, await operation(input as Record<string, unknown>));
}

/** A Node request listener serving the given operations over the JSON 1.0 protocol. */
export function createJsonProtocolHandler(
  operations: Readonly<Record<string, Operation>>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    dispatch(operations, req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof SfnApiError) {
        sendError(res, error);
        return;
      }
      console.error("[local-sfn] internal error:", error);
      sendError(
        res,
        new SfnApiError("InternalFailure", error instanceof Error ? error.message : String(error), 500),
      );
    });
  };
}
