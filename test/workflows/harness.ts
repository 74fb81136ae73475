import { randomUUID } from "node:crypto";
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, afterEach, beforeAll, inject } from "vitest";
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from "#local/runtime.ts";
import type { ExecutionDescription } from "#local/sfn/index.ts";

export interface ApiResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field in assertions
  readonly body: any;
}

type JsonObject = Record<string, unknown>;

/** Test time scale: a 5 s poll takes 10 ms, a 75 s channel start 150 ms. */
export const TEST_TIME_SCALE = 0.002;

/**
 * One local runtime per test file (the SFN service, simulator and handlers in this process),
 * sharing the run's DynamoDB Local with a table of its own. The simulated account is reset
 * after each test, so every test starts with no MediaLive or IVS resources.
 */
export function useLocalRuntime(options: Partial<LocalRuntimeOptions> = {}) {
  const h = {} as {
    rt: LocalRuntime;
    sfn: SFNClient;
    tokens: Map<string, string>;
  };

  beforeAll(async () => {
    h.rt = await startLocalRuntime({
      dynamodbEndpoint: inject("dynamodbEndpoint"),
      tableName: `castflow-test-${randomUUID()}`,
      timeScale: TEST_TIME_SCALE,
      ...options,
    });
    h.sfn = new SFNClient({ endpoint: h.rt.endpoints.sfn, region: "us-east-1", maxAttempts: 1 });
    h.tokens = new Map();
  });
  afterEach(async () => {
    // Faults, resources and the call log: each test starts with an empty account.
    await sim("POST", "/_sim/reset");
  });
  afterAll(async () => {
    await h.rt?.stop();
  });

  async function token(userId: string, admin = false): Promise<string> {
    const key = `${userId}:${admin}`;
    let t = h.tokens.get(key);
    if (!t) {
      t = await h.rt.token(userId, { admin });
      h.tokens.set(key, t);
    }
    return t;
  }

  async function api(
    method: string,
    path: string,
    opts: { user?: string; body?: unknown; admin?: boolean } = {},
  ) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await token(opts.user ?? "host-1", opts.admin)}`,
    };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${h.rt.endpoints.api}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, raw: text } as ApiResponse & {
      raw: string;
    };
  }

  async function sim(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const res = await fetch(`${h.rt.endpoints.simulator}${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
        : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Injects a fault into the simulator (see its README) and checks it was accepted. */
  async function fault(spec: JsonObject): Promise<void> {
    const res = await sim("POST", "/_sim/faults", spec);
    if (res.status >= 300) throw new Error(`fault refused: ${JSON.stringify(res.body)}`);
  }

  async function calls(service: string, operation: string): Promise<number> {
    return (await sim("GET", `/_sim/calls?service=${service}&operation=${operation}`)).body.count as number;
  }

  /** Calls the simulator took (answered without an error): a refused StartChannel started nothing. */
  async function accepted(service: string, operation: string): Promise<number> {
    const { calls: all } = (await sim("GET", `/_sim/calls?service=${service}&operation=${operation}`))
      .body as {
      calls: { error?: string }[];
    };
    return all.filter((c) => !c.error).length;
  }

  /** MediaLive channels and inputs that still exist (not DELETING/DELETED). */
  function liveMediaLive() {
    const r = h.rt.simulator.resources();
    const alive = (x: JsonObject) => !["DELETING", "DELETED"].includes(String(x.state));
    return { channels: r.medialive.channels.filter(alive), inputs: r.medialive.inputs.filter(alive) };
  }

  async function createSession(user = "host-1"): Promise<string> {
    // Every test creates its own sessions; see persistentChannel() for hosts with a channel.
    const res = await api("POST", "/sessions", { user, body: { showId: "show-1" } });
    if (res.status !== 201) throw new Error(`create session: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.sessionId as string;
  }

  async function waitFor(executionArn: string): Promise<ExecutionDescription> {
    return await h.rt.sfn.waitForExecution(executionArn, 30_000);
  }

  /** Starts go-live through the API and waits for its execution to close. */
  async function goLive(sessionId: string, user = "host-1") {
    const start = await api("POST", `/sessions/${sessionId}/streaming/start`, { user });
    if (start.status !== 202) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
    const execution = await waitFor(start.body.executionArn);
    return { start, execution };
  }

  async function stopStreaming(sessionId: string, user = "host-1") {
    const stop = await api("POST", `/sessions/${sessionId}/streaming/stop`, { user });
    if (stop.status !== 202) throw new Error(`stop: ${stop.status} ${JSON.stringify(stop.body)}`);
    return { stop, execution: await waitFor(stop.body.executionArn) };
  }

  async function history(executionArn: string, includeExecutionData = true): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await h.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, includeExecutionData, maxResults: 1000, nextToken }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  /** Names of the states entered, in order. */
  async function statePath(executionArn: string): Promise<string[]> {
    return (await history(executionArn))
      .filter((e) => e.type?.endsWith("StateEntered"))
      .map((e) => e.stateEnteredEventDetails?.name ?? "");
  }

  async function abort(executionArn: string) {
    await h.sfn.send(
      new StopExecutionCommand({ executionArn, error: "Test.Crash", cause: "simulated crash" }),
    );
  }

  async function session(sessionId: string, user = "host-1") {
    return (await api("GET", `/sessions/${sessionId}`, { user })).body;
  }

  /** An admin creates a persistent channel and assigns it to `host`. */
  async function persistentChannel(host: string) {
    const res = await api("POST", "/admin/channels", {
      user: "ops",
      admin: true,
      body: { hostUserId: host },
    });
    if (res.status !== 201) throw new Error(`create channel: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function channel(channelId: string) {
    return (await api("GET", `/admin/channels/${channelId}`, { user: "ops", admin: true })).body;
  }

  /** DELETE /sessions/{id} and wait for end-session to close. */
  async function endSession(sessionId: string, user = "host-1") {
    const end = await api("DELETE", `/sessions/${sessionId}`, { user });
    if (end.status !== 202) throw new Error(`end: ${end.status} ${JSON.stringify(end.body)}`);
    return { end, execution: await waitFor(end.body.executionArn) };
  }

  /** IVS channels that still exist in the simulated account. */
  function ivsChannelArns(): string[] {
    return h.rt.simulator.resources().ivs.channels.map((c) => String(c.arn));
  }

  return {
    h,
    api,
    sim,
    fault,
    calls,
    liveMediaLive,
    createSession,
    goLive,
    stopStreaming,
    waitFor,
    history,
    accepted,
    statePath,
    abort,
    session,
    token,
    persistentChannel,
    channel,
    endSession,
    ivsChannelArns,
  };
}

/** Polls `check` until it returns a truthy value (at most `ms`). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
