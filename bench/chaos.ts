/**
 * `npm run chaos`: how many session lifecycles succeed when every MediaLive and IVS call may fail
 * with a transient error and task Lambdas may die after doing their work, and what is left behind.
 *
 * Each run starts the embedded local runtime (in-memory state, in a child process of its own with
 * one retry setting), injects random faults on every operation of both services through the
 * simulator's fault API, with the errors each service really names (MediaLive
 * TooManyRequestsException 429, InternalServerErrorException 500, BadGatewayException 502,
 * GatewayTimeoutException 504 after the call took effect; IVS ThrottlingException 429,
 * InternalServerException 500, also after the call took effect, ServiceUnavailable 503), and
 * crashes task invocations at a rate after their handler ran (the runtime's `taskCrashRate`:
 * `Sandbox.Timedout` or `Lambda.ServiceException`), so every task is re-run after its AWS calls
 * took effect. Hosts with persistent channels then run lifecycles, a few at a time (under
 * MediaLive's quota of 5 channels): go-live, stop-streaming, go-live, end-session through the
 * HTTP API, each execution waited for. A lifecycle succeeds when every execution succeeded and
 * left the session where it should be (live, idle, live, ended). After a failure the host ends
 * the session again (up to 3 times) and carries on with a new host and channel.
 *
 * After each run the faults are cleared and the leftovers counted: MediaLive channels and inputs
 * and IVS channels (other than the persistent ones) that still exist, input security groups
 * beyond the shared one, sessions not ended, sessions stuck starting, stopping or ending,
 * persistent channel records still claimed or with a miscounted statistic, executions still
 * running.
 *
 * Both retry settings (`CASTFLOW_RETRY_SETTING`, read when the stack is built and when the SDK
 * clients are created; see state-machines/workflow/retry.ts) are measured side by side.
 *
 * Environment: CHAOS_SESSIONS (lifecycles per run, default 48), CHAOS_RATES (fault rates, default
 * "0.1,0.3"), CHAOS_CRASH_RATE (default 0.02), CHAOS_CONCURRENCY (default 4, at most 5),
 * CHAOS_SETTINGS (default "old,new"), CHAOS_MIX ("all", the default, or "basic": only the errors
 * answered before the call took effect that the old setting already retried),
 * CASTFLOW_TIME_SCALE (default 0.002).
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type HistoryEvent, ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { startDynamoDbLocal } from "#local/dynamodb.ts";
import { type LocalRuntime, startLocalRuntime } from "#local/runtime.ts";
import { EVENT_FAULTS_DESCRIPTION, eventFaults } from "./event-faults.ts";
import { fullHistory } from "./history.ts";

interface RunSpec {
  /** DynamoDB Local started once by the parent; each run has a table of its own. */
  readonly dynamodbEndpoint: string;
  readonly setting: string;
  /** `all`, or `basic`: only errors answered before the call took effect, and no IVS ServiceUnavailable. */
  readonly mix: string;
  readonly faultRate: number;
  readonly crashRate: number;
  readonly lifecycles: number;
  readonly concurrency: number;
  readonly timeScale: number;
}

interface Leftovers {
  readonly mediaLiveChannels: number;
  readonly mediaLiveInputs: number;
  /** IVS channels other than the hosts' persistent ones (relays, duplicates). */
  readonly ivsChannels: number;
  /** Input security groups beyond the one every session shares. */
  readonly extraSecurityGroups: number;
  readonly sessionsNotEnded: number;
  /** Sessions `ending`, or streaming `starting` / `stopping`. */
  readonly sessionsStuck: number;
  /** Persistent channel records still claimed (`LIVE`) after their session's lifecycle. */
  readonly channelsClaimed: number;
  /**
   * Persistent channels whose `totalBroadcasts` is not the number of their sessions that streamed
   * and were counted (`end.statsRecorded`): a statistic counted twice, or lost, by a re-run.
   */
  readonly statsMiscounted: number;
  readonly executionsRunning: number;
}

interface RunResult {
  readonly spec: RunSpec;
  readonly succeeded: number;
  readonly run: number;
  /** Why lifecycles failed: reason -> count. */
  readonly failures: Record<string, number>;
  readonly leftovers: Leftovers;
  /** Failed lifecycles whose session a later end (DELETE again) cleaned up completely... */
  readonly recovered: number;
  /** ...of the failed lifecycles that had a session (its create succeeded). */
  readonly recoverable: number;
  readonly faultsInjected: number;
  /** Events dropped, delayed, duplicated or reordered. */
  readonly eventsFaulted: number;
  readonly crashesInjected: number;
  readonly apiRetries: number;
  readonly wallMs: number;
}

interface FaultError {
  readonly error: string;
  /** The call takes effect and the answer is lost. */
  readonly after?: boolean;
  /** For an error the simulator does not answer by itself. */
  readonly status?: number;
}

const MEDIALIVE_ERRORS: readonly FaultError[] = [
  { error: "TooManyRequestsException" },
  { error: "InternalServerErrorException" },
  { error: "BadGatewayException" },
  // A gateway timeout: MediaLive did the work, the answer was lost.
  { error: "GatewayTimeoutException", after: true },
];
const IVS_ERRORS: readonly FaultError[] = [
  { error: "ThrottlingException" },
  { error: "InternalServerException" },
  { error: "InternalServerException", after: true },
  // In IVS's service model; the simulator never answers it by itself.
  { error: "ServiceUnavailable", status: 503 },
];
/** The errors of a mix: `basic` keeps those answered before the call took effect that the old setting already retried. */
const faultErrors = (errors: readonly FaultError[], mix: string) =>
  mix === "basic" ? errors.filter((e) => !e.after && e.status === undefined) : errors;

const CRASH_ERRORS = new Set(["Sandbox.Timedout", "Lambda.ServiceException"]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- one run (a child process, with its own retry setting) ---

async function runChaos(spec: RunSpec): Promise<RunResult> {
  const started = Date.now();
  const rt = await startLocalRuntime({
    dynamodbEndpoint: spec.dynamodbEndpoint,
    timeScale: spec.timeScale,
    tableName: `chaos-${randomUUID()}`,
    taskCrashRate: spec.crashRate,
  });
  try {
    return { ...(await measure(rt, spec)), wallMs: Date.now() - started };
  } finally {
    await rt.stop();
  }
}

async function measure(rt: LocalRuntime, spec: RunSpec): Promise<Omit<RunResult, "wallMs">> {
  const sfn = new SFNClient({ endpoint: rt.endpoints.sfn, region: "us-east-1" });
  const admin = await rt.token("chaos-admin", { admin: true });
  let apiRetries = 0;

  async function api(method: string, path: string, token: string, body?: unknown, retryOn = [503]) {
    // A client does what the API asks: 503 means "retry shortly" (IVS throttled or failed).
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${rt.endpoints.api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few known fields
      const parsed: any = text ? JSON.parse(text) : undefined;
      if (!retryOn.includes(res.status) || attempt >= 10) return { status: res.status, body: parsed };
      apiRetries++;
      await sleep(20 * attempt);
    }
  }
  async function sim(method: string, path: string, body?: unknown) {
    const res = await fetch(`${rt.endpoints.simulator}${path}`, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: admin answers
    const parsed: any = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
    return parsed;
  }

  /** A host with a persistent channel: each slot gets a new one after a failed lifecycle. */
  let hosts = 0;
  async function newHost() {
    const userId = `chaos-host-${++hosts}`;
    // Setting up a host is not what is measured: an operator tries again after any 5xx.
    const res = await api("POST", "/admin/channels", admin, { hostUserId: userId }, [500, 503]);
    if (res.status !== 201) throw new Error(`create channel: ${res.status} ${JSON.stringify(res.body)}`);
    return { userId, token: await rt.token(userId), channelId: res.body.channelId as string };
  }

  // Faults on every operation: k faults per service, each drawn only when the earlier ones were
  // not, at a rate q with 1 - (1 - q)^k = the fault rate.
  for (const [service, errors] of [
    ["medialive", MEDIALIVE_ERRORS],
    ["ivs", IVS_ERRORS],
  ] as const) {
    const used = faultErrors(errors, spec.mix);
    const q = 1 - (1 - spec.faultRate) ** (1 / used.length);
    for (const e of used) await sim("POST", "/_sim/faults", { service, operation: "*", rate: q, ...e });
  }
  // And on the event path the waits end on (lost, late, repeated, reordered).
  for (const fault of eventFaults(spec.timeScale)) await sim("POST", "/_sim/faults", fault);

  const failures: Record<string, number> = {};
  const fail = (reason: string) => {
    failures[reason] = (failures[reason] ?? 0) + 1;
    return false;
  };
  let recovered = 0;
  let recoverable = 0;
  const sessionIds: string[] = [];
  const channelOf = new Map<string, string>();
  const channelIds: string[] = [];
  const executionArns: string[] = [];

  async function step(
    host: { token: string },
    sessionId: string,
    name: string,
    method: string,
    suffix: string,
    expected: (s: { status: string; streaming: { status: string } }) => boolean,
  ): Promise<boolean> {
    const res = await api(method, `/sessions/${sessionId}${suffix}`, host.token);
    if (res.status !== 202) return fail(`${name}: API ${res.status} ${res.body?.error?.code ?? ""}`.trim());
    executionArns.push(res.body.executionArn);
    const done = await rt.sfn.waitForExecution(res.body.executionArn, 300_000).catch(() => undefined);
    if (!done) return fail(`${name}: execution still running after 300 s`);
    const session = (await api("GET", `/sessions/${sessionId}`, host.token)).body;
    if (done.status !== "SUCCEEDED") {
      // An incomplete end names its failed parts; the session record has their errors.
      const parts = Object.entries(session?.end?.cleanupResults ?? {})
        .filter(([, r]) => (r as { success: boolean }).success === false)
        .map(([part, r]) => `${part} ${(r as { error?: { code?: string } }).error?.code}`);
      // A JavaScript error is a bug, not an AWS error: its message says where.
      const bug = /^(Reference|Type|Syntax|Range)?Error$/.test(done.error ?? "")
        ? `: ${done.cause?.slice(0, 160)}`
        : "";
      return fail(
        `${name}: ${done.status} ${done.error}${parts.length ? ` (${parts.join(", ")})` : ""}${bug}`,
      );
    }
    if (!expected(session))
      return fail(`${name}: session ${session?.status}/${session?.streaming?.status} after success`);
    return true;
  }

  async function lifecycle(host: Awaited<ReturnType<typeof newHost>>): Promise<boolean> {
    const created = await api("POST", "/sessions", host.token, { showId: "chaos" });
    if (created.status !== 201)
      return fail(`create session: API ${created.status} ${created.body?.error?.code ?? ""}`.trim());
    const id = created.body.sessionId as string;
    sessionIds.push(id);
    channelOf.set(id, host.channelId);
    const live = (s: { streaming: { status: string } }) => s.streaming.status === "live";
    const ok =
      (await step(host, id, "go-live", "POST", "/streaming/start", live)) &&
      (await step(host, id, "stop", "POST", "/streaming/stop", (s) => s.streaming.status === "idle")) &&
      (await step(host, id, "go-live again", "POST", "/streaming/start", live)) &&
      (await step(host, id, "end", "DELETE", "", (s) => s.status === "ended"));
    if (!ok) {
      recoverable++;
      await recover(host, id);
    }
    return ok;
  }

  /**
   * What a host does after a failure: end the session, and end it again while the end is
   * incomplete (it retries the failed parts), up to three times, still under the faults. Without
   * this, what a failed lifecycle keeps (its MediaLive channel) fills the account's quota and
   * fails the next ones. What even this cannot clean up shows in the leftovers.
   */
  async function recover(host: { token: string }, sessionId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await api("DELETE", `/sessions/${sessionId}`, host.token);
      if (res.status === 200) break; // ended and cleaned up
      if (res.status !== 202) continue;
      executionArns.push(res.body.executionArn);
      const done = await rt.sfn.waitForExecution(res.body.executionArn, 300_000).catch(() => undefined);
      if (done?.status === "SUCCEEDED") break;
    }
    const s = (await api("GET", `/sessions/${sessionId}`, host.token)).body;
    const clean = Object.values(s?.end?.cleanupResults ?? {}).every(
      (r) => (r as { success: boolean }).success,
    );
    if (s?.status === "ended" && clean) recovered++;
  }

  let next = 0;
  let succeeded = 0;
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      let host = await newHost();
      channelIds.push(host.channelId);
      while (next < spec.lifecycles) {
        next++;
        if (await lifecycle(host)) succeeded++;
        else {
          // The old host's channel may stay claimed: the next lifecycle starts on a new host.
          host = await newHost();
          channelIds.push(host.channelId);
        }
      }
    }),
  );

  const faults = (await sim("GET", "/_sim/faults")).faults as { service: string; hits: number }[];
  await sim("DELETE", "/_sim/faults");

  let crashesInjected = 0;
  for (const arn of executionArns) {
    for (const e of await fullHistory(sfn, arn)) {
      const error = e.lambdaFunctionFailedEventDetails?.error ?? e.taskFailedEventDetails?.error;
      if (error && CRASH_ERRORS.has(error) && /injected crash/.test(failedCause(e))) crashesInjected++;
    }
  }

  const r = rt.simulator.resources();
  const exists = (x: Record<string, unknown>) => !["DELETING", "DELETED"].includes(String(x.state));
  const tags = (x: Record<string, unknown>) => (x.tags ?? {}) as Record<string, string>;
  let sessionsNotEnded = 0;
  let sessionsStuck = 0;
  /** Broadcasts each persistent channel should have counted: its sessions that streamed and were counted. */
  const broadcasts = new Map<string, number>();
  for (const id of sessionIds) {
    const s = (await api("GET", `/sessions/${id}`, admin)).body;
    if (s?.status !== "ended") sessionsNotEnded++;
    if (s?.status === "ending" || ["starting", "stopping"].includes(s?.streaming?.status)) sessionsStuck++;
    const channelId = channelOf.get(id) ?? "";
    if (s?.end?.statsRecorded && s.end.streamedSeconds > 0)
      broadcasts.set(channelId, (broadcasts.get(channelId) ?? 0) + 1);
  }
  let channelsClaimed = 0;
  let statsMiscounted = 0;
  for (const id of channelIds) {
    const channel = (await api("GET", `/admin/channels/${id}`, admin)).body;
    if (channel?.state !== "IDLE") channelsClaimed++;
    if (channel?.totalBroadcasts !== (broadcasts.get(id) ?? 0)) statsMiscounted++;
  }
  let executionsRunning = 0;
  for (const arn of Object.values(rt.stateMachineArns)) {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: "RUNNING" }));
    executionsRunning += page.executions?.length ?? 0;
  }
  sfn.destroy();

  return {
    spec,
    succeeded,
    run: spec.lifecycles,
    failures,
    leftovers: {
      mediaLiveChannels: r.medialive.channels.filter(exists).length,
      mediaLiveInputs: r.medialive.inputs.filter(exists).length,
      ivsChannels: r.ivs.channels.filter((c) => tags(c)["castflow:role"] !== "persistent").length,
      extraSecurityGroups: Math.max(0, r.medialive.inputSecurityGroups.filter(exists).length - 1),
      sessionsNotEnded,
      sessionsStuck,
      channelsClaimed,
      statsMiscounted,
      executionsRunning,
    },
    recovered,
    recoverable,
    faultsInjected: faults.filter((f) => f.service !== "events").reduce((n, f) => n + f.hits, 0),
    eventsFaulted: faults.filter((f) => f.service === "events").reduce((n, f) => n + f.hits, 0),
    crashesInjected,
    apiRetries,
  };
}

function failedCause(e: HistoryEvent): string {
  return e.lambdaFunctionFailedEventDetails?.cause ?? e.taskFailedEventDetails?.cause ?? "";
}

// --- the parent: one child per (fault rate, setting), then the table ---

function runInChild(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
      execArgv: process.execArgv,
      env: {
        ...process.env,
        CASTFLOW_RETRY_SETTING: spec.setting,
        CHAOS_WORKER: JSON.stringify(spec),
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "CRITICAL",
      },
    });
    let result: RunResult | undefined;
    child.on("message", (m) => {
      result = m as RunResult;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (result) resolve(result);
      else reject(new Error(`chaos run ${JSON.stringify(spec)} exited with ${code} and no result`));
    });
  });
}

const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)}%`);

function printTable(results: RunResult[]): void {
  const head = [
    "fault rate",
    "crash rate",
    "retry",
    "succeeded",
    "%",
    "recovered",
    "ML ch",
    "ML in",
    "IVS ch",
    "+SG",
    "not ended",
    "stuck",
    "claimed",
    "stats",
    "running",
    "faults",
    "events",
    "crashes",
    "API 503",
    "wall s",
  ];
  const rows = results.map((r) => {
    const l = r.leftovers;
    return [
      String(r.spec.faultRate),
      String(r.spec.crashRate),
      r.spec.setting,
      `${r.succeeded}/${r.run}`,
      pct(r.succeeded, r.run),
      `${r.recovered}/${r.recoverable}`,
      l.mediaLiveChannels,
      l.mediaLiveInputs,
      l.ivsChannels,
      l.extraSecurityGroups,
      l.sessionsNotEnded,
      l.sessionsStuck,
      l.channelsClaimed,
      l.statsMiscounted,
      l.executionsRunning,
      r.faultsInjected,
      r.eventsFaulted,
      r.crashesInjected,
      r.apiRetries,
      (r.wallMs / 1000).toFixed(0),
    ].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  console.log(line(head));
  for (const row of rows) console.log(line(row));
  console.log(
    [
      "",
      "recovered: failed lifecycles with a session that a later end (DELETE again, up to 3 times, still",
      "under the faults) cleaned up completely. Leftovers after each run, once the faults are cleared:",
      "ML ch / ML in = MediaLive channels / inputs that still exist; IVS ch = IVS channels other than the",
      "hosts' persistent ones (relays, duplicates); +SG = input security groups beyond the shared one;",
      "not ended = sessions not `ended`; stuck = sessions ending, starting or stopping; claimed =",
      "persistent channel records still LIVE; stats = persistent channels whose totalBroadcasts differs",
      "from the number of their sessions counted (a broadcast counted twice or lost by a re-run);",
      "running = executions still running. faults = calls failed by injection; events = events dropped,",
      "delayed, duplicated or reordered; crashes = task",
      "invocations that crashed after their handler ran; API 503 = API answers 503 (retry shortly) the",
      "client retried.",
    ].join("\n"),
  );
  console.log("");
  const targets: Record<string, number> = { "0.1": 0.99, "0.3": 0.95 };
  for (const r of results) {
    const target = targets[String(r.spec.faultRate)];
    if (target === undefined) continue;
    const clean = Object.values(r.leftovers).every((n) => n === 0);
    const met = r.succeeded / r.run >= target && clean;
    console.log(
      `Target at fault rate ${r.spec.faultRate} (>= ${target * 100}%, nothing left), ${r.spec.setting}: ${met ? "met" : "NOT met"}`,
    );
  }
  for (const r of results) {
    const reasons = Object.entries(r.failures).sort((a, b) => b[1] - a[1]);
    if (reasons.length === 0) continue;
    console.log(`\nFailed lifecycles at fault rate ${r.spec.faultRate}, retry setting ${r.spec.setting}:`);
    for (const [reason, n] of reasons) console.log(`  ${String(n).padStart(4)}  ${reason}`);
  }
}

const list = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

if (process.env.CHAOS_WORKER) {
  const result = await runChaos(JSON.parse(process.env.CHAOS_WORKER) as RunSpec);
  process.send?.(result);
  process.exit(0);
} else {
  const lifecycles = Number(process.env.CHAOS_SESSIONS ?? 48);
  const crashRate = Number(process.env.CHAOS_CRASH_RATE ?? 0.02);
  const concurrency = Number(process.env.CHAOS_CONCURRENCY ?? 4);
  const timeScale = Number(process.env.CASTFLOW_TIME_SCALE ?? 0.002);
  const rates = list(process.env.CHAOS_RATES, "0.1,0.3").map(Number);
  const settings = list(process.env.CHAOS_SETTINGS, "old,new");
  const mix = process.env.CHAOS_MIX ?? "all";
  if (mix !== "all" && mix !== "basic") throw new Error(`CHAOS_MIX: "all" or "basic", not "${mix}"`);
  for (const [name, v, max] of [
    ["CHAOS_SESSIONS", lifecycles, Infinity],
    ["CHAOS_CRASH_RATE", crashRate, 1],
    ["CHAOS_CONCURRENCY", concurrency, 5],
    ["CASTFLOW_TIME_SCALE", timeScale, Infinity],
    ...rates.map((r) => ["CHAOS_RATES", r, 1] as const),
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0 && v <= max)) throw new Error(`${name}: ${v} is out of range`);
  }
  const describe = (errors: readonly FaultError[]) =>
    faultErrors(errors, mix)
      .map((e) => `${e.error}${e.after ? " (after the call took effect)" : ""}`)
      .join(", ");
  console.log(
    [
      `Chaos: ${lifecycles} lifecycles per run (go-live, stop, go-live, end through the HTTP API), ${concurrency} at a time, time scale ${timeScale}.`,
      `Faults on every MediaLive call: ${describe(MEDIALIVE_ERRORS)};`,
      `on every IVS call: ${describe(IVS_ERRORS)}.`,
      `Task crashes after the handler ran (Sandbox.Timedout or Lambda.ServiceException) at rate ${crashRate}.`,
      EVENT_FAULTS_DESCRIPTION,
      "Retry settings: old = before in-task retries (SDK clients make one attempt; no retry of a timed-out Lambda);",
      "new = this tree's (SDK clients retry transient errors, Sandbox.Timedout and IVS ServiceUnavailable retried).",
      "",
    ].join("\n"),
  );
  const dynamodb = await startDynamoDbLocal();
  const results: RunResult[] = [];
  try {
    for (const faultRate of rates) {
      for (const setting of settings) {
        const spec: RunSpec = {
          dynamodbEndpoint: dynamodb.endpoint,
          setting,
          mix,
          faultRate,
          crashRate,
          lifecycles,
          concurrency,
          timeScale,
        };
        const result = await runInChild(spec);
        results.push(result);
        console.log(
          `  fault rate ${faultRate}, ${setting}: ${result.succeeded}/${result.run} (${pct(result.succeeded, result.run)}) in ${(result.wallMs / 1000).toFixed(0)} s`,
        );
      }
    }
  } finally {
    await dynamodb.stop();
  }
  console.log("");
  printTable(results);
}
