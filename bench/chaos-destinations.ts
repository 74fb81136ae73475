/**
 * `npm run chaos` (second part): how many restream-destination lifecycles succeed when every
 * MediaLive, MediaConnect and SSM call may fail with a transient error (some after the call took
 * effect: a lost answer) and task Lambdas may die after doing their work, and what is left behind.
 *
 * Per run: the embedded local runtime (in this process, current retry setting), three SRT sources
 * (two per-destination, one shared: its destinations share one channel, so their lifecycles go
 * through shared-channel-apply and restart each other), and destinations run 4 at a time (under MediaLive's 5-channel quota), each through the HTTP API:
 * add, start, stop, start, delete, each execution waited for. A destination's lifecycle succeeds
 * when every execution succeeded and left it where it should be (idle, running, idle, running,
 * deleted). After a failure the owner deletes it (DELETE again, up to 3 times, still under faults).
 *
 * Leftovers, counted after the faults are cleared: MediaLive channels and inputs, flow outputs,
 * flows still ACTIVE, stream key parameters of deleted destinations, destinations in a
 * transitional status, executions still running.
 *
 * Environment: CHAOS_DESTINATIONS (default 24), CHAOS_RATES (default "0.1,0.3"),
 * CHAOS_CRASH_RATE (default 0.02), CASTFLOW_TIME_SCALE (default 0.002).
 */
import { randomUUID } from "node:crypto";
import { ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { startDynamoDbLocal } from "#local/dynamodb.ts";
import { type LocalRuntime, startLocalRuntime } from "#local/runtime.ts";
import { EVENT_FAULTS_DESCRIPTION, eventFaults } from "./event-faults.ts";

const LIFECYCLES = Number(process.env.CHAOS_DESTINATIONS ?? 24);
const RATES = (process.env.CHAOS_RATES ?? "0.1,0.3").split(",").map(Number);
const CRASH_RATE = Number(process.env.CHAOS_CRASH_RATE ?? 0.02);
const TIME_SCALE = Number(process.env.CASTFLOW_TIME_SCALE ?? 0.002);
const CONCURRENCY = 4;
/** Two per-destination sources and one shared (one channel for all its destinations). */
const SOURCES = 3;

/** Errors each service names for throttling and 5xx; `after`: the call took effect, the answer was lost. */
const FAULTS = {
  medialive: [
    { error: "TooManyRequestsException" },
    { error: "InternalServerErrorException" },
    { error: "GatewayTimeoutException", after: true },
  ],
  mediaconnect: [
    { error: "TooManyRequestsException" },
    { error: "ServiceUnavailableException" },
    { error: "InternalServerErrorException", after: true },
  ],
  ssm: [{ error: "ThrottlingException" }, { error: "InternalServerError" }],
} as const;

const TRANSITIONAL = new Set(["creating", "starting", "restarting", "stopping", "updating", "deleting"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  rate: number;
  succeeded: number;
  failures: Record<string, number>;
  recovered: number;
  leftovers: Record<string, number>;
  faults: number;
  /** Events dropped, delayed, duplicated or reordered. */
  eventsFaulted: number;
  wallMs: number;
}

/**
 * One row. The runtime is shared by the rows (the SDK clients of a process keep the endpoints of
 * the first runtime): each row has sources and destinations of its own, and the simulated account
 * is reset after it.
 */
async function run(rt: LocalRuntime, rate: number): Promise<Result> {
  const started = Date.now();
  try {
    const admin = await rt.token("chaos-admin", { admin: true });
    const host = await rt.token("chaos-host");
    async function api(method: string, path: string, token: string, body?: unknown) {
      // A client retries what the API says is temporary (429/503), as a real client would.
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
        if (![500, 503].includes(res.status) || attempt >= 10) return { status: res.status, body: parsed };
        await sleep(20 * attempt);
      }
    }
    async function sim(method: string, path: string, body?: unknown) {
      const res = await fetch(`${rt.endpoints.simulator}${path}`, {
        method,
        ...(body ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
      });
      // biome-ignore lint/suspicious/noExplicitAny: admin answers
      return (await res.json()) as any;
    }

    const sources: string[] = [];
    for (let i = 0; i < SOURCES; i++) {
      // The last source delivers in shared mode: its destinations share one channel.
      const shared = i === SOURCES - 1;
      const s = await api("POST", "/admin/sources", admin, {
        name: `chaos-${i}`,
        protocol: "srt-listener",
        ...(shared ? { deliveryMode: "shared" } : {}),
      });
      if (s.status !== 201) throw new Error(`source: ${s.status} ${JSON.stringify(s.body)}`);
      sources.push(s.body.sourceId);
    }
    // Faults on every operation of each service, k errors drawn in turn at q with 1-(1-q)^k = rate.
    for (const [service, errors] of Object.entries(FAULTS)) {
      const q = 1 - (1 - rate) ** (1 / errors.length);
      for (const e of errors) await sim("POST", "/_sim/faults", { service, operation: "*", rate: q, ...e });
    }
    // And on the event path the waits end on (lost, late, repeated, reordered).
    for (const fault of eventFaults(TIME_SCALE)) await sim("POST", "/_sim/faults", fault);

    const failures: Record<string, number> = {};
    const fail = (reason: string) => {
      failures[reason] = (failures[reason] ?? 0) + 1;
      return false;
    };
    const ids: string[] = [];
    let recovered = 0;

    async function step(
      id: string,
      name: string,
      method: string,
      suffix: string,
      want: string,
    ): Promise<boolean> {
      const res = await api(method, `/destinations/${id}${suffix}`, host);
      if (res.status !== 202) return fail(`${name}: API ${res.status} ${res.body?.error?.code ?? ""}`.trim());
      const done = await rt.sfn.waitForExecution(res.body.executionArn, 300_000).catch(() => undefined);
      if (!done) return fail(`${name}: still running after 300 s`);
      if (done.status !== "SUCCEEDED") {
        // A wait that gave up says what it waited for ("Channel ... still STARTING", "Flow of source ... still STOPPING").
        const what =
          done.error === "ChannelWaitTimeout"
            ? ` (${(done.cause ?? "").replace(/[0-9a-f-]{36}|\d{7}/g, "…").slice(0, 90)})`
            : "";
        return fail(`${name}: ${done.status} ${done.error}${what}`);
      }
      let d = (await api("GET", `/destinations/${id}`, host)).body;
      // On the shared source another destination's change may be restarting the channel right
      // now (explicit: `restarting`); the destination is judged once that restart settled.
      for (let i = 0; i < 200 && d?.status === "restarting"; i++) {
        await sleep(50);
        d = (await api("GET", `/destinations/${id}`, host)).body;
      }
      return d?.status === want || fail(`${name}: ${d?.status} after success`);
    }

    async function lifecycle(n: number): Promise<boolean> {
      const add = await api("POST", "/destinations", host, {
        name: `chaos-${n}`,
        platform: "custom",
        rtmpUrl: `rtmp://ingest-${n}.example.com/live`,
        sourceId: sources[n % SOURCES],
        streamKey: `chaos-key-${n}-${randomUUID().slice(0, 8)}`,
      });
      // A shared destination has nothing to create: 201 idle at once.
      if (add.status === 201) ids.push(add.body.destinationId);
      if (add.status !== 202 && add.status !== 201)
        return fail(`add: API ${add.status} ${add.body?.error?.code ?? ""}`.trim());
      const id = add.body.destinationId as string;
      if (add.status === 202) ids.push(id);
      const addDone =
        add.status === 201
          ? { status: "SUCCEEDED", error: undefined }
          : await rt.sfn.waitForExecution(add.body.executionArn, 300_000).catch(() => undefined);
      const added = addDone?.status === "SUCCEEDED" || fail(`add: ${addDone?.status} ${addDone?.error}`);
      const ok =
        added &&
        (await step(id, "start", "POST", "/start", "running")) &&
        (await step(id, "stop", "POST", "/stop", "idle")) &&
        (await step(id, "start again", "POST", "/start", "running")) &&
        (await step(id, "delete", "DELETE", "", "deleted"));
      if (!ok) {
        for (let attempt = 0; attempt < 3; attempt++) {
          const res = await api("DELETE", `/destinations/${id}`, host);
          if (res.status === 200) break;
          if (res.status !== 202) {
            await sleep(50);
            continue;
          }
          const done = await rt.sfn.waitForExecution(res.body.executionArn, 300_000).catch(() => undefined);
          if (done?.status === "SUCCEEDED") break;
        }
        if ((await api("GET", `/destinations/${id}`, host)).body?.status === "deleted") recovered++;
      }
      return ok;
    }

    let next = 0;
    let succeeded = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < LIFECYCLES) if (await lifecycle(next++)) succeeded++;
      }),
    );
    const injected = (await sim("GET", "/_sim/faults")).faults as { service: string; hits: number }[];
    const hits = (events: boolean) =>
      injected.filter((f) => (f.service === "events") === events).reduce((n, f) => n + f.hits, 0);
    const faults = hits(false);
    const eventsFaulted = hits(true);
    await sim("DELETE", "/_sim/faults");

    const r = rt.simulator.resources();
    const exists = (x: Record<string, unknown>) => !["DELETING", "DELETED"].includes(String(x.state));
    let stuck = 0;
    let notDeleted = 0;
    let keys = 0;
    const params = new Set(r.ssm.parameters.map((p) => String(p.name)));
    for (const id of ids) {
      const d = (await api("GET", `/destinations/${id}`, host)).body;
      if (TRANSITIONAL.has(d?.status)) stuck++;
      if (d?.status !== "deleted") notDeleted++;
      if (d?.status === "deleted" && [...params].some((p) => p.includes(id))) keys++;
    }
    const sfn = new SFNClient({ endpoint: rt.endpoints.sfn, region: "us-east-1" });
    let running = 0;
    for (const arn of Object.values(rt.stateMachineArns)) {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: "RUNNING" }),
      );
      running += page.executions?.length ?? 0;
    }
    sfn.destroy();
    const flows = r.mediaconnect.flows as Record<string, unknown>[];
    return {
      rate,
      succeeded,
      failures,
      recovered,
      faults,
      eventsFaulted,
      wallMs: Date.now() - started,
      leftovers: {
        "ML channels": r.medialive.channels.filter(exists).length,
        "ML inputs": r.medialive.inputs.filter(exists).length,
        "flow outputs": flows.reduce((n, f) => n + ((f.outputs as unknown[]) ?? []).length, 0),
        "flows ACTIVE": flows.filter((f) => f.status === "ACTIVE" || f.status === "STARTING").length,
        "keys of deleted": keys,
        "not deleted": notDeleted,
        stuck,
        running,
      },
    };
  } finally {
    await fetch(`${rt.endpoints.simulator}/_sim/reset`, { method: "POST" });
  }
}

const dynamodb = await startDynamoDbLocal();
const results: Result[] = [];
try {
  const rt = await startLocalRuntime({
    dynamodbEndpoint: dynamodb.endpoint,
    timeScale: TIME_SCALE,
    tableName: `chaos-destinations-${randomUUID()}`,
    taskCrashRate: CRASH_RATE,
  });
  try {
    for (const rate of RATES) results.push(await run(rt, rate));
  } finally {
    await rt.stop();
  }
} finally {
  await dynamodb.stop();
}
console.log(
  `\nRestream destinations under faults (${LIFECYCLES} destinations per row: add, start, stop, start, delete; crash rate ${CRASH_RATE})\n`,
);
const leftoverNames = Object.keys(results[0]?.leftovers ?? {});
console.log(EVENT_FAULTS_DESCRIPTION);
console.log(
  ["fault rate", "succeeded", "recovered", ...leftoverNames, "faults", "events faulted", "wall s"].join(
    " | ",
  ),
);
for (const r of results)
  console.log(
    [
      r.rate,
      `${r.succeeded}/${LIFECYCLES}`,
      `${r.recovered}/${LIFECYCLES - r.succeeded}`,
      ...leftoverNames.map((k) => r.leftovers[k]),
      r.faults,
      r.eventsFaulted,
      (r.wallMs / 1000).toFixed(0),
    ].join(" | "),
  );
for (const r of results)
  for (const [reason, n] of Object.entries(r.failures)) console.log(`  ${r.rate}: ${n} x ${reason}`);
