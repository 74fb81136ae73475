import middy from "@middy/core";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2, Context } from "aws-lambda";
import type * as z from "zod";
import { ConfigurationError, config } from "#lib/config.ts";
import { listDestinations } from "#lib/destinations/store.ts";
import { errorName, isNetworkError, TaskErrors } from "#lib/errors.ts";
import { logger, withInvocationLogger } from "#lib/logger.ts";
import { type Caller, callerOf } from "./auth.ts";
import {
  AssignChannelBody,
  assignChannel,
  ChannelStateBody,
  CreateChannelBody,
  createPersistentChannel,
  deletePersistentChannel,
  getPersistentChannel,
  hostChannel,
  listPersistentChannels,
  requireAdmin,
  setChannelState,
} from "./channels.ts";
import {
  CreateDestinationBody,
  createDestination,
  deleteDestination,
  destinationFor,
  destinationMetrics,
  destinationView,
  FailoverBody,
  failoverDestination,
  listDestinationsFor,
  startDestination,
  stopDestination,
  UpdateDestinationBody,
  updateDestinationSettings,
} from "./destinations.ts";
import {
  describeExecution,
  type ExecutionView,
  executionArnFor,
  executionHistory,
  explainExecution,
} from "./executions.ts";
import { ApiError, badRequest, errorResponse, fieldError, json, notFound, validationError } from "./http.ts";
import { isPublicRoute } from "./public-routes.ts";
import { costView, getReconcileRun, listReconcileRuns, ReconcileBody, startReconcile } from "./reconcile.ts";
import {
  CreateSessionBody,
  createSession,
  endSession,
  listSessionsFor,
  sessionFor,
  sessionView,
  startStreaming,
  stopStreaming,
} from "./sessions.ts";
import {
  CreateSourceBody,
  createSource,
  deleteSource,
  getSourceView,
  listSourcesView,
  sourceStatus,
  UpdateSourceBody,
  updateSourceSettings,
} from "./sources.ts";

/**
 * The stack gives the API every lifecycle's state machine (STATE_MACHINE_ARNS, from the
 * registry): a deployment without them fails its cold start, not the first start request.
 */
if (process.env.AWS_LAMBDA_FUNCTION_NAME && Object.keys(config().STATE_MACHINE_ARNS).length === 0) {
  throw new ConfigurationError("STATE_MACHINE_ARNS names no state machine");
}

/** Request bodies are small JSON documents; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

/** Throttling, a 5xx or a dropped connection from an AWS API: worth retrying, not an internal error. */
function isTransientAwsError(err: unknown): boolean {
  if (isNetworkError(err)) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const name = errorName(err);
  return (
    status === 429 ||
    (status !== undefined && status >= 500) ||
    /Throttl|TooManyRequests|ServiceUnavailable|InternalServerError|InternalServerException|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(
      name,
    )
  );
}

function parseBody<S extends z.ZodType>(event: Event, schema: S): z.infer<S> {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, "base64").toString("utf8")
      : event.body
    : "";
  if (Buffer.byteLength(raw, "utf8") > MAX_BODY_BYTES) {
    throw new ApiError(413, "payload_too_large", `The request body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  const contentType = (event.headers?.["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (raw.length > 0 && contentType !== "application/json") {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "The request body must be JSON (content-type: application/json)",
    );
  }
  let data: unknown;
  try {
    data = raw.length > 0 ? JSON.parse(raw) : {};
  } catch {
    throw fieldError("body", "is not valid JSON");
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw validationError(parsed.error, data);
  return parsed.data;
}

/**
 * The execution a path segment names (a URL-encoded ARN or an execution name), with the record it
 * works on, if the caller may see it: that session's or destination's, or for a shared channel's
 * executions, an admin or an owner of a destination on its source. Anything else, unknown or
 * not the caller's, is the same 404 `Execution not found`.
 */
async function visibleExecution(
  caller: Caller,
  encoded: string | undefined,
): Promise<{ execution: Omit<ExecutionView, "input">; owner: Record<string, string> }> {
  let id: string;
  try {
    id = decodeURIComponent(encoded ?? "");
  } catch {
    throw badRequest("executionArn: is not a valid URL-encoded ARN");
  }
  const found = await describeExecution(executionArnFor(id));
  if (!found) throw notFound("Execution");
  const { input, ...execution } = found;
  const { sessionId, destinationId, sourceId } = input;
  const hidden = (err: unknown) => {
    throw err instanceof ApiError && err.status === 404 ? notFound("Execution") : err;
  };
  if (typeof sessionId === "string") {
    await sessionFor(caller, sessionId).catch(hidden);
    return { execution, owner: { sessionId } };
  }
  if (typeof destinationId === "string") {
    await destinationFor(caller, destinationId).catch(hidden);
    return { execution, owner: { destinationId } };
  }
  if (typeof sourceId === "string") {
    const mine =
      caller.isAdmin ||
      (await listDestinations({ sourceId, ownerUserId: caller.userId })).some((d) => d.status !== "deleted");
    if (mine) return { execution, owner: { sourceId } };
  }
  throw notFound("Execution");
}

type Route = (event: Event, caller: Caller, params: string[]) => Promise<APIGatewayProxyResultV2>;

const routes: { method: string; pattern: RegExp; route: Route }[] = [
  {
    // Public (auth.ts PUBLIC_ROUTES): no authorizer in the stack, no caller here.
    method: "GET",
    pattern: /^\/health$/,
    route: async () => json(200, { status: "ok" }),
  },
  {
    method: "GET",
    pattern: /^\/sessions$/,
    route: async (event, caller) =>
      json(200, await listSessionsFor(caller, event.queryStringParameters ?? {})),
  },
  {
    method: "POST",
    pattern: /^\/sessions$/,
    route: async (event, caller) =>
      json(201, await createSession(caller, parseBody(event, CreateSessionBody))),
  },
  {
    method: "GET",
    pattern: /^\/sessions\/([^/]+)$/,
    route: async (_e, caller, [id]) => json(200, sessionView(await sessionFor(caller, id ?? ""))),
  },
  {
    method: "DELETE",
    pattern: /^\/sessions\/([^/]+)$/,
    route: async (_e, caller, [id]) => {
      const { status, body } = await endSession(await sessionFor(caller, id ?? ""));
      return json(status, body);
    },
  },
  {
    method: "POST",
    pattern: /^\/sessions\/([^/]+)\/streaming\/start$/,
    route: async (_e, caller, [id]) => {
      const { status, body } = await startStreaming(await sessionFor(caller, id ?? ""));
      return json(status, body);
    },
  },
  {
    method: "POST",
    pattern: /^\/sessions\/([^/]+)\/streaming\/stop$/,
    route: async (_e, caller, [id]) => {
      const { status, body } = await stopStreaming(await sessionFor(caller, id ?? ""));
      return json(status, body);
    },
  },
  {
    method: "GET",
    pattern: /^\/executions\/([^/]+)$/,
    route: async (_e, caller, [id]) => {
      const { execution, owner } = await visibleExecution(caller, id);
      return json(200, { ...(await explainExecution(execution)), ...owner });
    },
  },
  {
    method: "GET",
    pattern: /^\/executions\/([^/]+)\/history$/,
    route: async (event, caller, [id]) => {
      const { execution } = await visibleExecution(caller, id);
      const { nextToken, limit } = event.queryStringParameters ?? {};
      return json(200, await executionHistory(execution.executionArn, { nextToken, limit }));
    },
  },
  {
    method: "POST",
    pattern: /^\/destinations$/,
    route: async (event, caller) => {
      const { status, body } = await createDestination(caller, parseBody(event, CreateDestinationBody));
      return json(status, body);
    },
  },
  {
    method: "GET",
    pattern: /^\/destinations$/,
    route: async (event, caller) =>
      json(200, await listDestinationsFor(caller, event.queryStringParameters ?? {})),
  },
  {
    method: "GET",
    pattern: /^\/destinations\/([^/]+)$/,
    route: async (_e, caller, [id]) => json(200, destinationView(await destinationFor(caller, id ?? ""))),
  },
  {
    method: "PUT",
    pattern: /^\/destinations\/([^/]+)$/,
    route: async (event, caller, [id]) => {
      const d = await destinationFor(caller, id ?? "");
      const { status, body } = await updateDestinationSettings(d, parseBody(event, UpdateDestinationBody));
      return json(status, body);
    },
  },
  {
    method: "DELETE",
    pattern: /^\/destinations\/([^/]+)$/,
    route: async (_e, caller, [id]) => {
      const { status, body } = await deleteDestination(await destinationFor(caller, id ?? ""));
      return json(status, body);
    },
  },
  {
    method: "POST",
    pattern: /^\/destinations\/([^/]+)\/start$/,
    route: async (_e, caller, [id]) => {
      const { status, body } = await startDestination(await destinationFor(caller, id ?? ""));
      return json(status, body);
    },
  },
  {
    method: "POST",
    pattern: /^\/destinations\/([^/]+)\/stop$/,
    route: async (_e, caller, [id]) => {
      const { status, body } = await stopDestination(await destinationFor(caller, id ?? ""));
      return json(status, body);
    },
  },
  {
    method: "POST",
    pattern: /^\/destinations\/([^/]+)\/failover$/,
    route: async (event, caller, [id]) => {
      const d = await destinationFor(caller, id ?? "");
      const { status, body } = await failoverDestination(d, parseBody(event, FailoverBody).to);
      return json(status, body);
    },
  },
  {
    method: "GET",
    pattern: /^\/destinations\/([^/]+)\/metrics$/,
    route: async (_e, caller, [id]) => json(200, destinationMetrics(await destinationFor(caller, id ?? ""))),
  },
  {
    method: "GET",
    pattern: /^\/sources\/([^/]+)\/status$/,
    route: async (_e, _c, [id]) => json(200, await sourceStatus(id ?? "")),
  },
];

const adminRoutes: typeof routes = [
  {
    method: "POST",
    pattern: /^\/admin\/reconcile$/,
    route: async (event) => json(202, await startReconcile(parseBody(event, ReconcileBody))),
  },
  {
    method: "GET",
    pattern: /^\/admin\/cost$/,
    route: async (event) => json(200, await costView(event.queryStringParameters ?? {})),
  },
  {
    method: "GET",
    pattern: /^\/admin\/reconcile\/runs$/,
    route: async (event) => json(200, await listReconcileRuns(event.queryStringParameters ?? {})),
  },
  {
    method: "GET",
    pattern: /^\/admin\/reconcile\/runs\/([^/]+)$/,
    route: async (_e, _c, [id]) => json(200, await getReconcileRun(id ?? "")),
  },
  {
    method: "POST",
    pattern: /^\/admin\/sources$/,
    route: async (event) => json(201, await createSource(parseBody(event, CreateSourceBody))),
  },
  {
    method: "GET",
    pattern: /^\/admin\/sources$/,
    route: async () => json(200, await listSourcesView()),
  },
  {
    method: "GET",
    pattern: /^\/admin\/sources\/([^/]+)$/,
    route: async (_e, _c, [id]) => json(200, await getSourceView(id ?? "")),
  },
  {
    method: "PUT",
    pattern: /^\/admin\/sources\/([^/]+)$/,
    route: async (event, _c, [id]) =>
      json(200, await updateSourceSettings(id ?? "", parseBody(event, UpdateSourceBody))),
  },
  {
    method: "DELETE",
    pattern: /^\/admin\/sources\/([^/]+)$/,
    route: async (_e, _c, [id]) => json(200, await deleteSource(id ?? "")),
  },
  {
    method: "POST",
    pattern: /^\/admin\/channels$/,
    route: async (event) => json(201, await createPersistentChannel(parseBody(event, CreateChannelBody))),
  },
  {
    method: "GET",
    pattern: /^\/admin\/channels$/,
    route: async () => json(200, await listPersistentChannels()),
  },
  {
    method: "GET",
    pattern: /^\/admin\/channels\/([^/]+)$/,
    route: async (_e, _c, [id]) => json(200, await getPersistentChannel(id ?? "")),
  },
  {
    method: "DELETE",
    pattern: /^\/admin\/channels\/([^/]+)$/,
    route: async (_e, _c, [id]) => json(200, await deletePersistentChannel(id ?? "")),
  },
  {
    method: "PUT",
    pattern: /^\/admin\/channels\/([^/]+)\/state$/,
    route: async (event, _c, [id]) =>
      json(200, await setChannelState(id ?? "", parseBody(event, ChannelStateBody))),
  },
  {
    method: "PUT",
    pattern: /^\/admin\/hosts\/([^/]+)\/channel$/,
    route: async (event, _c, [host]) =>
      json(200, await assignChannel(host ?? "", parseBody(event, AssignChannelBody))),
  },
];

routes.push(
  ...adminRoutes.map((r) => ({
    ...r,
    route: async (event: Event, caller: Caller, params: string[]) => {
      requireAdmin(caller);
      return await r.route(event, caller, params);
    },
  })),
  {
    method: "GET",
    pattern: /^\/hosts\/([^/]+)\/channel$/,
    route: async (_e, caller, [host]) => json(200, await hostChannel(caller, host ?? "")),
  },
);

export async function route(event: Event): Promise<APIGatewayProxyResultV2> {
  try {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath.replace(/\/+$/, "") || "/";
    const matches = routes.filter((r) => r.pattern.test(path));
    if (matches.length === 0) throw new ApiError(404, "not_found", `No route for ${path}`);
    const match = matches.find((r) => r.method === method);
    if (!match) {
      throw new ApiError(405, "method_not_allowed", `${method} is not allowed on ${path}`, {
        allowed: matches.map((r) => r.method),
      });
    }
    // A public route's request carries no claims (the stack gives it no authorizer).
    const caller: Caller = isPublicRoute(method, path) ? { userId: "", isAdmin: false } : callerOf(event);
    const params = (match.pattern.exec(path) ?? []).slice(1);
    return await match.route(event, caller, params);
  } catch (err) {
    if (err instanceof ApiError) return errorResponse(err);
    if (errorName(err) === TaskErrors.IvsUnavailable) {
      return errorResponse(
        new ApiError(503, "unavailable", "Streaming capacity is temporarily unavailable; retry shortly"),
      );
    }
    if (isTransientAwsError(err)) {
      // The SDK already retried: the caller may retry shortly (retry-after), nothing was lost.
      logger.warn("AWS throttled or failed after the SDK's retries", { error: errorName(err) });
      return errorResponse(
        new ApiError(503, "unavailable", "An AWS service is throttling or unavailable; retry shortly"),
      );
    }
    logger.error("Unhandled API error", {
      error: errorName(err),
      message: err instanceof Error ? err.message : "",
    });
    return errorResponse(new ApiError(500, "internal", "Internal error; the request was not completed"));
  }
}

export const handler = middy<Event, APIGatewayProxyResultV2, Error, Context>(
  async (event: Event, context: Context) =>
    withInvocationLogger(context, { requestId: event.requestContext.requestId }, () => route(event)),
);
