/**
 * The local runtime's console: a small HTTP server of static pages (plain browser modules, no
 * build step) and the JSON they poll. Executions come from the local Step Functions service
 * through its SFN API (the definition each ran, its history), records from DynamoDB Local through
 * castflow's stores, the simulated account from the simulator's admin endpoints. A local
 * developer tool: it listens on loopback only and has no authentication.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { listChannels } from "#lib/channels/store.ts";
import { listDestinations, listSources } from "#lib/destinations/store.ts";
import { scanSessions } from "#lib/sessions/store.ts";
import { aslToGraph, type StateGraph } from "./graph.ts";
import { compactEvents, traceExecution } from "./trace.ts";
import { accountView, channelRow, destinationRow, sessionRow, sourceRow } from "./views.ts";

export interface ConsoleOptions {
  /** Loopback address to listen on. */
  readonly host: string;
  /** 0 = a free port. */
  readonly port: number;
  /** The local Step Functions service's endpoint. */
  readonly sfnEndpoint: string;
  /** The simulator's endpoint (its /_sim/ admin routes). */
  readonly simulatorUrl: string;
  /** Lifecycle name -> the local state machine's ARN. */
  readonly stateMachineArns: Readonly<Record<string, string>>;
}

export interface ConsoleServer {
  readonly url: string;
  close(): Promise<void>;
}

const STATIC_DIR = fileURLToPath(new URL("./static/", import.meta.url));
/** ELK's browser build (UMD, defines `ELK`): served from node_modules as it ships. */
const ELK_BUNDLE = createRequire(import.meta.url).resolve("elkjs/lib/elk.bundled.js");
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};
const EXECUTION_STATUSES = new Set(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]);
const MAX_EXECUTIONS = 200;
const MAX_BODY_BYTES = 16 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}
const sendJson = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, JSON.stringify(body), "application/json; charset=utf-8");

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "body over 16 KiB");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The lifecycle's key from an execution's input: which session, destination, source or run. */
function executionKey(input: string | undefined): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(input ?? "{}");
    if (typeof parsed !== "object" || parsed === null) return {};
    const out: Record<string, string> = {};
    for (const key of ["sessionId", "destinationId", "sourceId", "runId"]) {
      const value = (parsed as Record<string, unknown>)[key];
      if (typeof value === "string") out[key] = value;
    }
    return out;
  } catch {
    return {};
  }
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const sfn = new SFNClient({
    endpoint: options.sfnEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "castflowlocal", secretAccessKey: "castflowlocal" },
    maxAttempts: 1,
  });
  const lifecycleOf = new Map(Object.entries(options.stateMachineArns).map(([l, arn]) => [arn, l]));
  const staticFiles = new Set(readdirSync(STATIC_DIR));
  /** Definitions do not change while the runtime runs: one graph per state machine. */
  const graphs = new Map<string, Promise<StateGraph>>();
  const graphOf = (stateMachineArn: string) => {
    let graph = graphs.get(stateMachineArn);
    if (!graph) {
      graph = sfn.send(new DescribeStateMachineCommand({ stateMachineArn })).then((m) => {
        if (!m.definition) throw new Error(`${stateMachineArn} has no definition`);
        return aslToGraph(JSON.parse(m.definition));
      });
      graph.catch(() => graphs.delete(stateMachineArn));
      graphs.set(stateMachineArn, graph);
    }
    return graph;
  };

  async function simulator(method: string, path: string, body?: string) {
    const res = await fetch(`${options.simulatorUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : {} };
    } catch {
      return { status: res.status, body: { message: text } };
    }
  }

  async function overview() {
    const [sessions, destinations, sources, channels] = await Promise.all([
      scanSessions(),
      listDestinations(),
      listSources(),
      listChannels(),
    ]);
    const newest = <T extends { updatedAt?: string }>(a: T, b: T) =>
      (b.updatedAt ?? "").localeCompare(a.updatedAt ?? "");
    return {
      sessions: sessions.map(sessionRow).sort(newest),
      destinations: destinations.map(destinationRow).sort(newest),
      sources: sources.map(sourceRow).sort(newest),
      channels: channels.map(channelRow),
    };
  }

  async function executions(query: URLSearchParams) {
    const lifecycle = query.get("lifecycle") || undefined;
    const status = query.get("status") || undefined;
    if (lifecycle !== undefined && !(lifecycle in options.stateMachineArns))
      throw new HttpError(400, `lifecycle: unknown lifecycle ${lifecycle}`);
    if (status !== undefined && !EXECUTION_STATUSES.has(status))
      throw new HttpError(400, `status: must be one of ${[...EXECUTION_STATUSES].join(", ")}`);
    const machines = lifecycle
      ? [options.stateMachineArns[lifecycle] as string]
      : Object.values(options.stateMachineArns);
    const pages = await Promise.all(
      machines.map((stateMachineArn) =>
        sfn.send(
          new ListExecutionsCommand({
            stateMachineArn,
            maxResults: MAX_EXECUTIONS,
            ...(status ? { statusFilter: status as ExecutionStatus } : {}),
          }),
        ),
      ),
    );
    const items: ExecutionListItem[] = pages.flatMap((p) => p.executions ?? []);
    items.sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
    return {
      executions: items.slice(0, MAX_EXECUTIONS).map((e) => ({
        executionArn: e.executionArn,
        name: e.name,
        lifecycle: lifecycleOf.get(e.stateMachineArn ?? "") ?? e.stateMachineArn,
        status: e.status,
        startDate: e.startDate?.toISOString(),
        stopDate: e.stopDate?.toISOString(),
      })),
    };
  }

  async function execution(executionArn: string) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const history: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: 1000,
          includeExecutionData: false,
          nextToken,
        }),
      );
      history.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const stateMachineArn = described.stateMachineArn ?? "";
    const graph = await graphOf(stateMachineArn);
    const events = compactEvents(history);
    const status = described.status ?? "RUNNING";
    return {
      execution: {
        executionArn,
        name: described.name,
        lifecycle: lifecycleOf.get(stateMachineArn) ?? stateMachineArn,
        stateMachineArn,
        status,
        startDate: described.startDate?.toISOString(),
        stopDate: described.stopDate?.toISOString(),
        ...(described.error ? { error: described.error } : {}),
        ...(described.cause ? { cause: described.cause } : {}),
        ...executionKey(described.input),
      },
      graph,
      trace: traceExecution(graph, events, status),
      events,
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://console.local");
    const method = req.method ?? "GET";
    const path = url.pathname;
    if (method === "GET" && (path === "/" || path === "/index.html"))
      return send(res, 200, readFileSync(join(STATIC_DIR, "index.html")), CONTENT_TYPES[".html"] ?? "");
    if (method === "GET" && path.startsWith("/static/")) {
      const name = path.slice("/static/".length);
      if (!staticFiles.has(name)) throw new HttpError(404, "not found");
      return send(
        res,
        200,
        readFileSync(join(STATIC_DIR, name)),
        CONTENT_TYPES[extname(name)] ?? "text/plain",
      );
    }
    if (method === "GET" && path === "/vendor/elk.js")
      return send(res, 200, readFileSync(ELK_BUNDLE), CONTENT_TYPES[".js"] ?? "");
    if (method === "GET" && path === "/api/overview") return sendJson(res, 200, await overview());
    if (method === "GET" && path === "/api/lifecycles")
      return sendJson(res, 200, {
        lifecycles: Object.entries(options.stateMachineArns).map(([lifecycle, stateMachineArn]) => ({
          lifecycle,
          stateMachineArn,
        })),
      });
    if (method === "GET" && path === "/api/executions")
      return sendJson(res, 200, await executions(url.searchParams));
    const one = /^\/api\/executions\/([^/]+)$/.exec(path);
    if (method === "GET" && one?.[1]) return sendJson(res, 200, await execution(decodeURIComponent(one[1])));
    const machine = /^\/api\/lifecycles\/([^/]+)\/graph$/.exec(path);
    if (method === "GET" && machine?.[1]) {
      const arn = options.stateMachineArns[decodeURIComponent(machine[1])];
      if (!arn) throw new HttpError(404, "unknown lifecycle");
      return sendJson(res, 200, { graph: await graphOf(arn) });
    }
    if (method === "GET" && path === "/api/account") {
      const { body } = await simulator("GET", "/_sim/resources");
      return sendJson(res, 200, accountView(body));
    }
    if (path === "/api/faults" && ["GET", "POST", "DELETE"].includes(method)) {
      // JSON only: a page of another origin cannot send it without a CORS preflight, which this
      // server never answers, so no other site the developer opens can inject faults.
      if (
        method === "POST" &&
        (req.headers["content-type"] ?? "").split(";")[0]?.trim() !== "application/json"
      )
        throw new HttpError(415, "send the faults as JSON (content-type: application/json)");
      const answer = await simulator(
        method,
        "/_sim/faults",
        method === "POST" ? await readBody(req) : undefined,
      );
      return sendJson(res, answer.status, answer.body);
    }
    throw new HttpError(404, "not found");
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const name = err instanceof Error ? err.name : "Error";
      const message = err instanceof Error ? err.message : String(err);
      const status =
        err instanceof HttpError
          ? err.status
          : name === "ExecutionDoesNotExist"
            ? 404
            : name === "InvalidArn" || name === "URIError"
              ? 400
              : 500;
      if (!res.headersSent) sendJson(res, status, { error: { code: name, message } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${urlHost}:${port}`,
    close: async () => {
      sfn.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
