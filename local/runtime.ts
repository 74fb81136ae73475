import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import { startLifecycle } from "#api/executions.ts";
import { resetConfig } from "#lib/config.ts";
import { errorName } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { MACHINES } from "#state-machines/registry.ts";
import { executionName } from "#state-machines/workflow/lifecycle.ts";
import type { WaitMode } from "#state-machines/workflow/waits.ts";
import type { AnyTask } from "#tasks/define.ts";
import { createApiServer } from "./api-server.ts";
import { startConsole } from "./console/server.ts";
import { type LocalRule, stackDefinitions } from "./definitions.ts";
import { devTokenVerifier, issueDevToken } from "./dev-issuer.ts";
import { type DynamoDbLocal, startDynamoDbLocal } from "./dynamodb.ts";
import { createLocalEventBridge, type LocalEventBridge } from "./events/bus.ts";
import { grantedActions, installIamEnforcement, type Principal, runAs } from "./iam.ts";
import { type Settled, settleAborted } from "./settle.ts";
import { createSfnService, type ExecutionEvent, type SfnService } from "./sfn/index.ts";
import {
  type DurationOverrides,
  type Simulator,
  type SimulatorQuotas,
  startSimulator,
} from "./simulator/index.ts";
import { ensureTable } from "./table.ts";

/** Default time scale: a MediaLive start (~90 s on AWS) takes a few seconds locally. */
export const DEFAULT_TIME_SCALE = 0.05;
/** Lambda timeout of the task functions (CastflowFunction's default). */
const TASK_TIMEOUT_MS = 30_000;

export interface LocalRuntimeOptions {
  /** Keep state here between restarts (DynamoDB data, simulator, executions, dev issuer key). In memory when omitted. */
  readonly stateDir?: string;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local (tests share one). */
  readonly dynamodbEndpoint?: string;
  /** Default: `castflow-local`. */
  readonly tableName?: string;
  /** Multiplies simulated AWS durations, Wait states and retry intervals. Default: CASTFLOW_TIME_SCALE or 0.05. */
  readonly timeScale?: number;
  /** Loopback address to listen on. Default: 127.0.0.1. */
  readonly host?: string;
  /**
   * Hosts without a persistent channel get a per-session program channel (the legacy fallback).
   * Default: false, as in the deployed stack (such hosts get 403).
   */
  readonly legacyProgramChannels?: boolean;
  /**
   * How lifecycles wait for MediaLive (the stack's `castflow:waits`): `events` (default, as
   * deployed) or `polling`.
   */
  readonly waits?: WaitMode;
  /**
   * Run the scheduled lifecycles (reconcile) as the deployed schedules do, at the time scale:
   * `true` at their declared rates, or minutes by lifecycle name (0 turns one off). Default: off
   * (tests start runs themselves); `npm start` turns them on.
   */
  readonly schedules?: true | Readonly<Record<string, number>>;
  /** Refuse SDK calls a function's role is not granted in the stack (AccessDeniedException). Default: true. */
  readonly enforceIam?: boolean;
  /** Simulated AWS durations replacing the defaults (base seconds, before the time scale). */
  readonly simulatorDurations?: DurationOverrides;
  /** Raised simulator quotas (e.g. MediaLive channels for a large account). Default: AWS's defaults. */
  readonly simulatorQuotas?: SimulatorQuotas;
  /**
   * Chaos testing: the probability (0..1, default 0) that a task invocation runs its handler to the
   * end (its AWS calls take effect) and then fails as if the Lambda had died before answering,
   * with an error Step Functions reports for that (`Sandbox.Timedout`, `Lambda.ServiceException`).
   * The state retries it, so every task must be idempotent under re-execution.
   */
  readonly taskCrashRate?: number;
  /**
   * One line per execution started, succeeded or failed (`12:03:04 go-live-<id>-1 started`, see
   * `executionLine`): `true` prints them on stdout, a function receives them. Runs the schedules
   * start (reconcile) show only when they fail. Default: off (tests); `npm start` turns it on.
   */
  readonly executionLog?: boolean | ((line: string) => void);
  /** Ports to listen on; each must be free (PortInUseError otherwise). Default: free ones. */
  readonly ports?: {
    readonly api?: number;
    readonly sfn?: number;
    readonly simulator?: number;
    readonly dynamodb?: number;
    /** The console (local/console/); 0 or absent = a free port. */
    readonly console?: number;
  };
}

export interface LocalEndpoints {
  readonly api: string;
  readonly sfn: string;
  readonly simulator: string;
  readonly dynamodb: string;
  /** The console: sessions, executions drawn on their state machines, the simulated account. */
  readonly console: string;
}

export interface LocalRuntime {
  readonly endpoints: LocalEndpoints;
  /** Lifecycle name -> the local state machine's ARN. */
  readonly stateMachineArns: Readonly<Record<string, string>>;
  readonly sfn: SfnService;
  readonly simulator: Simulator;
  /** The local EventBridge: the simulator's events delivered to the stack's rules' functions. */
  readonly events: LocalEventBridge;
  /** Executions the previous run left running (aborted on this start), and what settles each. */
  readonly settled: readonly Settled[];
  readonly tableName: string;
  readonly timeScale: number;
  /** A bearer token for the local API. */
  token(userId: string, options?: { admin?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + TASK_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Lambda passes JSON across the wire: no shared references between task and state. */
const answer = (result: unknown) => (result === undefined ? null : JSON.parse(JSON.stringify(result)));

/**
 * What Step Functions sees when a task's Lambda dies after the handler did its work: half of the
 * time a timeout (the runtime's error type `Sandbox.Timedout`, after the function's timeout), half
 * of the time the Lambda service failing the invocation (`Lambda.ServiceException`).
 */
async function taskCrash(taskName: string, timeScale: number): Promise<Error> {
  if (Math.random() < 0.5) {
    // Scaled like every duration, and always inside the state's own 60 s TimeoutSeconds.
    await new Promise((resolve) => setTimeout(resolve, Math.min(TASK_TIMEOUT_MS * timeScale, 45_000)));
    return Object.assign(
      new Error(
        `RequestId: ${randomUUID()} Error: Task timed out after ${(TASK_TIMEOUT_MS / 1000).toFixed(2)} seconds (castflow-${taskName}, injected crash)`,
      ),
      { name: "Sandbox.Timedout" },
    );
  }
  return Object.assign(
    new Error(`Lambda encountered an internal error running castflow-${taskName} (injected crash)`),
    { name: "Lambda.ServiceException" },
  );
}

/** A port the runtime was asked to listen on is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  constructor(
    readonly service: keyof NonNullable<LocalRuntimeOptions["ports"]>,
    readonly port: number,
  ) {
    super(`port ${port} is in use (${service})`);
  }
}

/** Fails with PortInUseError when `port` cannot be bound on `host` (a port of 0 is always free). */
async function ensurePortFree(
  service: keyof NonNullable<LocalRuntimeOptions["ports"]>,
  port: number | undefined,
  host: string,
): Promise<void> {
  if (!port) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new PortInUseError(service, port) : err),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const clock = (epochMs: number) => new Date(epochMs).toTimeString().slice(0, 8);

/**
 * The runtime terminal's line for an execution event, at the event's local time:
 * `12:03:04 go-live-abc-1 started`, `... succeeded in 41.2 s`,
 * `... FAILED in 12.0 s at "Wait For Channel Running: Timed Out": ChannelWaitTimeout`, and
 * likewise `TIMED OUT` and `ABORTED` with the state it was in.
 */
export function executionLine(event: ExecutionEvent): string {
  if (event.type === "started") return `${clock(event.startDate)} ${event.name} started`;
  const took = seconds(event.stopDate - event.startDate);
  const head = `${clock(event.stopDate)} ${event.name}`;
  if (event.status === "SUCCEEDED") return `${head} succeeded in ${took}`;
  const word = { FAILED: "FAILED", TIMED_OUT: "TIMED OUT", ABORTED: "ABORTED" }[event.status];
  const at = event.state === undefined ? "" : ` at ${JSON.stringify(event.state)}`;
  return `${head} ${word} in ${took}${at}${event.error ? `: ${event.error}` : ""}`;
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("server has no address");
  return `http://${host}:${addr.port}`;
}

/**
 * Starts the embedded local runtime: DynamoDB Local, the media simulator, the local Step
 * Functions service running the stack's own definitions with the task handlers in-process, and
 * the HTTP API. Task handlers reach the stand-ins through the real SDK clients via the
 * `AWS_ENDPOINT_URL_<SERVICE>` variables, which this sets for the process.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const host = options.host ?? "127.0.0.1";
  const timeScale = options.timeScale ?? Number(process.env.CASTFLOW_TIME_SCALE ?? DEFAULT_TIME_SCALE);
  if (!Number.isFinite(timeScale) || timeScale <= 0)
    throw new Error(`CASTFLOW_TIME_SCALE must be a positive number`);
  const crashRate = options.taskCrashRate ?? 0;
  if (!(crashRate >= 0 && crashRate <= 1)) throw new Error(`taskCrashRate must be within 0..1`);
  const tableName = options.tableName ?? "castflow-local";
  const { stateDir } = options;
  if (stateDir) mkdirSync(stateDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };

  try {
    // A port taken by another process (often a castflow already running) fails before anything starts.
    await ensurePortFree("api", options.ports?.api, host);
    await ensurePortFree("sfn", options.ports?.sfn, host);
    await ensurePortFree("simulator", options.ports?.simulator, host);
    await ensurePortFree("console", options.ports?.console, host);
    // DynamoDB Local listens on every interface.
    if (!options.dynamodbEndpoint) await ensurePortFree("dynamodb", options.ports?.dynamodb, "0.0.0.0");
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      const ddb: DynamoDbLocal = await startDynamoDbLocal({
        ...(options.ports?.dynamodb ? { port: options.ports.dynamodb } : {}),
        ...(stateDir ? { dataDir: join(stateDir, "dynamodb") } : {}),
      });
      stops.push(() => ddb.stop());
      dynamodbEndpoint = ddb.endpoint;
    }

    const simulator = await startSimulator({
      host,
      port: options.ports?.simulator ?? 0,
      timeScale,
      ...(options.simulatorDurations ? { durations: options.simulatorDurations } : {}),
      ...(options.simulatorQuotas ? { quotas: options.simulatorQuotas } : {}),
      ...(stateDir ? { statePath: join(stateDir, "simulator.json") } : {}),
    });
    stops.push(() => simulator.close());

    const { machines, functions, stack, rules } = stackDefinitions({
      "castflow:waits": options.waits ?? "events",
    });
    // Each task may call only what its role is granted in the stack (see local/iam.ts).
    const enforce = options.enforceIam ?? true;
    if (enforce) installIamEnforcement();
    const principals = new Map(
      [...stack.taskFunctions, ...[...stack.reactionFunctions].map(([r, fn]) => [r.task, fn] as const)].map(
        ([task, fn]) => [
          task,
          { name: `castflow-${task.name}`, actions: grantedActions(stack, fn) } satisfies Principal,
        ],
      ),
    );
    /** Invokes a task's handler as its function would run: its own copy of the event, its role, a Lambda context. */
    const invoke = (task: AnyTask, input: unknown): Promise<unknown> => {
      // Lambda passes JSON across the wire: no shared references between caller and task.
      const event = JSON.parse(JSON.stringify(input));
      const run = () => task.handler(event, lambdaContext(`castflow-${task.name}`));
      const principal = principals.get(task);
      return enforce && principal ? runAs(principal, run) : run();
    };
    const apiPrincipal: Principal = {
      name: "castflow-api",
      actions: grantedActions(stack, stack.apiFunction),
    };
    const sfn = createSfnService({
      machines: machines.map((m) => ({ name: m.name, definition: m.definition })),
      timeScale,
      ...(stateDir ? { statePath: join(stateDir, "executions.json") } : {}),
      invokeTask: async ({ resource, input }) => {
        const task = functions.get(resource);
        if (!task)
          throw Object.assign(new Error(`No task behind ${resource}`), {
            name: "Lambda.ResourceNotFoundException",
          });
        const invoked = invoke(task, input);
        if (crashRate === 0) return answer(await invoked);
        // The handler runs to the end either way: its AWS calls and writes took effect.
        const outcome = await invoked.then(
          (result) => ({ ok: true as const, result }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        if (Math.random() < crashRate) throw await taskCrash(task.name, timeScale);
        if (!outcome.ok) throw outcome.error;
        return answer(outcome.result);
      },
    });
    stops.push(() => sfn.close());
    // Names of the runs the schedules start: shown only when they fail (they run every few seconds).
    const quiet = new Set<string>();
    const print = options.executionLog === true ? (line: string) => console.log(line) : options.executionLog;
    if (print) {
      const unsubscribe = sfn.onExecution((event) => {
        const routine = quiet.has(event.name);
        if (event.type === "closed") quiet.delete(event.name);
        if (routine && (event.type === "started" || event.status === "SUCCEEDED")) return;
        print(executionLine(event));
      });
      stops.push(async () => unsubscribe());
    }
    const events = createLocalEventBridge({
      rules,
      timeScale,
      invoke: (target: LocalRule["targets"][number], event) => invoke(target.task, event),
    });
    const unsubscribe = simulator.onEvent((event) => events.publish(event));
    stops.push(async () => {
      unsubscribe();
      await events.close();
    });
    const sfnListening = await sfn.listen(options.ports?.sfn ?? 0, host);

    const stateMachineArns = Object.fromEntries(
      machines.map((m) => [m.lifecycle.name, sfn.stateMachineArn(m.name)]),
    );

    Object.assign(process.env, {
      // DynamoDB Local accepts only letters and digits in the access key id.
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "castflowlocal",
      AWS_SECRET_ACCESS_KEY: "castflowlocal",
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_MEDIALIVE: simulator.url,
      AWS_ENDPOINT_URL_IVS: simulator.url,
      AWS_ENDPOINT_URL_SSM: simulator.url,
      AWS_ENDPOINT_URL_MEDIACONNECT: simulator.url,
      AWS_ENDPOINT_URL_SFN: sfnListening.url,
      TABLE_NAME: tableName,
      RECORDING_BUCKET: "castflow-local-recordings",
      MEDIALIVE_ROLE_ARN: "arn:aws:iam::000000000000:role/castflow-local-medialive",
      MEDIACONNECT_ROLE_ARN: "arn:aws:iam::000000000000:role/castflow-local-mediaconnect",
      STATE_MACHINE_ARNS: JSON.stringify(stateMachineArns),
      LEGACY_PROGRAM_CHANNELS: String(options.legacyProgramChannels ?? false),
      // Real seconds, like the rest of the simulated time, follow the time scale.
      TAKEOVER_GRACE_SECONDS: String(90 * timeScale),
      FLOW_STOP_LEASE_SECONDS: String(120 * timeScale),
      RECONCILE_GRACE_SECONDS: String(300 * timeScale),
      RECONCILE_LIST_PAGES_PER_SECOND: String(2 / timeScale),
      RECONCILE_IDLE_INPUT_MINUTES: String(25 * timeScale),
      RECONCILE_IDLE_RESOURCE_TTL_HOURS: String(72 * timeScale),
      // CloudWatch metrics (embedded in log lines) have no reader here.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? "true",
      // Scaled, but never shorter than a slow local call: the lease must outlive its holder's work.
      SHARED_RESOURCE_LEASE_SECONDS: String(Math.max(60 * timeScale, 5)),
    });
    resetConfig();
    await ensureTable(new DynamoDBClient({ endpoint: dynamodbEndpoint }), tableName);

    const issuerPath = join(
      stateDir ?? join(process.env.TMPDIR ?? "/tmp", `castflow-${process.pid}`),
      "dev-issuer.json",
    );
    const apiServer = createApiServer(await devTokenVerifier(issuerPath), enforce ? apiPrincipal : undefined);
    const api = await listen(apiServer, options.ports?.api ?? 0, host);
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          apiServer.closeAllConnections();
          apiServer.close(() => resolve());
        }),
    );

    // Scheduled lifecycles (reconcile), as EventBridge Scheduler runs them, at the time scale.
    for (const { lifecycle } of options.schedules ? MACHINES : []) {
      const { schedule } = lifecycle;
      const everyMinutes =
        (options.schedules === true ? undefined : options.schedules?.[lifecycle.name]) ??
        schedule?.everyMinutes;
      if (!schedule || !everyMinutes) continue;
      const timer = setInterval(
        () => {
          const input = schedule.input(randomUUID());
          const parsed = lifecycle.input.safeParse(input);
          if (parsed.success) quiet.add(executionName(lifecycle, lifecycle.key(parsed.data), 1));
          startLifecycle(lifecycle, 1, () => input as never).catch((err: unknown) =>
            logger.error("Could not start a scheduled run", {
              lifecycle: lifecycle.name,
              error: errorName(err),
            }),
          );
        },
        Math.max(everyMinutes * 60_000 * timeScale, 1_000),
      );
      stops.push(async () => clearInterval(timer));
    }

    const consoleServer = await startConsole({
      host,
      port: options.ports?.console ?? 0,
      sfnEndpoint: sfnListening.url,
      simulatorUrl: simulator.url,
      stateMachineArns,
    });
    stops.push(() => consoleServer.close());

    const endpoints: LocalEndpoints = {
      api,
      sfn: sfnListening.url,
      simulator: simulator.url,
      dynamodb: dynamodbEndpoint,
      console: consoleServer.url,
    };
    if (stateDir) writeFileSync(join(stateDir, "local.json"), `${JSON.stringify(endpoints, null, 2)}\n`);
    // Executions the last run left RUNNING were aborted on load: settle their records now.
    const settled = await settleAborted(
      sfn.abortedAtStart,
      (name) => machines.find((m) => m.name === name)?.lifecycle,
    );
    return {
      settled,
      endpoints,
      stateMachineArns,
      sfn,
      simulator,
      events,
      tableName,
      timeScale,
      token: (userId, opts) => issueDevToken(issuerPath, userId, opts),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
