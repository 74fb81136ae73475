import { randomUUID } from "node:crypto";
import { ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { afterEach, describe, expect, it, vi } from "vitest";
import { logger } from "#lib/logger.ts";
import { eventually, useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime();

const ADMIN = { user: "ops", admin: true } as const;
const LIFECYCLES = [
  "destination-add",
  "destination-start",
  "destination-stop",
  "destination-update",
  "destination-delete",
] as const;

afterEach(() => {
  vi.restoreAllMocks();
});

/** A fresh YouTube-shaped stream key (five groups of four), unique to the test. */
function ytKey(): string {
  const hex = randomUUID().replaceAll("-", "");
  return [0, 4, 8, 12, 16].map((i) => hex.slice(i, i + 4)).join("-");
}

const newHost = () => `host-${randomUUID().slice(0, 8)}`;

interface IngestEntry {
  url: string;
  streamName: string;
  receiving: boolean;
  interruptions: number;
}

async function source(name = "studio-srt") {
  const res = await t.api("POST", "/admin/sources", { ...ADMIN, body: { name, protocol: "srt-listener" } });
  expect(res.status).toBe(201);
  return res.body as { sourceId: string; flow: { flowArn: string } };
}

/** POST /destinations; returns the answer (202 expected) without waiting. */
async function postDestination(sourceId: string, user: string, body: Record<string, unknown> = {}) {
  const streamKey = (body.streamKey as string | undefined) ?? ytKey();
  const res = await t.api("POST", "/destinations", {
    user,
    body: { name: "YouTube", platform: "youtube", sourceId, streamKey, ...body },
  });
  if (res.status !== 202) throw new Error(`add: ${res.status} ${JSON.stringify(res.body)}`);
  return { res, destinationId: res.body.destinationId as string, streamKey };
}

async function addDestination(sourceId: string, user: string, body: Record<string, unknown> = {}) {
  const added = await postDestination(sourceId, user, body);
  expect((await t.waitFor(added.res.body.executionArn)).status).toBe("SUCCEEDED");
  return added;
}

async function act(destinationId: string, action: "start" | "stop", user: string) {
  const res = await t.api("POST", `/destinations/${destinationId}/${action}`, { user });
  if (res.status !== 202) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
  return { res, execution: await t.waitFor(res.body.executionArn) };
}

async function get(destinationId: string, user: string) {
  const res = await t.api("GET", `/destinations/${destinationId}`, { user });
  expect(res.status).toBe(200);
  return res.body;
}

async function entryOf(streamKey: string): Promise<IngestEntry | undefined> {
  const entries = (await t.sim("GET", "/_sim/ingest")).body.ingest as IngestEntry[];
  return entries.find((e) => e.streamName === streamKey);
}

const flowOf = (flowArn: string) =>
  t.h.rt.simulator.resources().mediaconnect.flows.find((f) => f.flowArn === flowArn) as
    | { status: string; outputs: unknown[] }
    | undefined;

const parameterNames = () =>
  t.h.rt.simulator.resources().ssm.parameters.map((p) => String((p as { Name: unknown }).Name));

/** Every channel in the simulated account with its state (DELETED ones are gone from the view). */
const channelState = (channelId: string) =>
  t.h.rt.simulator.resources().medialive.channels.find((c) => c.id === channelId)?.state;

/** Executions of one lifecycle for one destination (names are `<lifecycle>-<destinationId>-<n>`). */
async function executionsOf(lifecycle: string, destinationId: string) {
  const stateMachineArn = t.h.rt.stateMachineArns[lifecycle];
  const res = await t.h.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
  return (res.executions ?? []).filter((e) => e.name?.includes(destinationId));
}

/** Nothing of these destinations is left in the simulated account. */
function expectNothingLeft(flowArn: string, destinationIds: string[]) {
  expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
  expect(flowOf(flowArn)?.outputs).toEqual([]);
  for (const id of destinationIds) expect(parameterNames().filter((n) => n.includes(id))).toEqual([]);
}

describe("faults in each destination lifecycle", () => {
  it("add: CreateChannel refused -> the add fails, its input is deleted, the record is `error` with the code", async () => {
    const user = newHost();
    const src = await source();
    await t.fault({ service: "medialive", operation: "CreateChannel", error: "BadRequestException" });

    const { res, destinationId, streamKey } = await postDestination(src.sourceId, user);
    const execution = await t.waitFor(res.body.executionArn);
    expect(execution.status).toBe("FAILED");
    const path = await t.statePath(res.body.executionArn);
    expect(path).toEqual(expect.arrayContaining(["Create Input", "Create Channel", "Delete Created Input"]));

    const d = await get(destinationId, user);
    expect(d.status).toBe("error");
    expect(d.error).toMatchObject({ code: "BadRequestException", message: expect.any(String) });
    expect(d.mediaLive.inputId).toBeUndefined();
    expect(d.mediaLive.channelId).toBeUndefined();
    expect(d.flowOutputArn).toBeUndefined();
    expect(JSON.stringify(d)).not.toContain(streamKey);
    // Nothing of MediaLive left, the flow has no output and never started.
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    expect(flowOf(src.flow.flowArn)).toMatchObject({ status: "STANDBY", outputs: [] });
    expect(await t.calls("medialive", "CreateInput")).toBe(1);
    expect(await t.calls("medialive", "DeleteInput")).toBeGreaterThanOrEqual(1);

    // A destination in `error` without a channel cannot start; it can be deleted, keys and all.
    const start = await t.api("POST", `/destinations/${destinationId}/start`, { user });
    expect(start.status).toBe(409);
    const del = await t.api("DELETE", `/destinations/${destinationId}`, { user });
    expect(del.status).toBe(202);
    expect((await t.waitFor(del.body.executionArn)).status).toBe("SUCCEEDED");
    expect((await get(destinationId, user)).status).toBe("deleted");
    expectNothingLeft(src.flow.flowArn, [destinationId]);
  });

  it("start: StartChannel ForbiddenException -> channel not left running, flow stopped again, record `error`", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId, streamKey } = await addDestination(src.sourceId, user);
    const channelId = (await get(destinationId, user)).mediaLive.channelId as string;
    await t.fault({ service: "medialive", operation: "StartChannel", error: "ForbiddenException" });

    const { execution } = await act(destinationId, "start", user);
    expect(execution.status).toBe("FAILED");
    const d = await get(destinationId, user);
    expect(d.status).toBe("error");
    expect(d.error).toMatchObject({ code: "ForbiddenException" });
    expect(d.metrics.lastError).toMatchObject({ code: "ForbiddenException" });
    expect(d.metrics.starts).toBe(0);
    expect(channelState(channelId)).toBe("IDLE");
    expect((await entryOf(streamKey))?.receiving ?? false).toBe(false);
    // The flow was started for it and, with no other user, stopped again.
    expect(await t.calls("mediaconnect", "StartFlow")).toBe(1);
    await eventually(async () => flowOf(src.flow.flowArn)?.status === "STANDBY");
    const view = await t.api("GET", `/admin/sources/${src.sourceId}`, ADMIN);
    expect(view.body.flowUsers).toBe(0);

    // From `error`, a start again works.
    const again = await act(destinationId, "start", user);
    expect(again.execution.status).toBe("SUCCEEDED");
    expect(await get(destinationId, user)).toMatchObject({ status: "running" });
    expect(await entryOf(streamKey)).toMatchObject({ receiving: true });
  });

  it("start: a failed start of one destination keeps the flow for another running one, uninterrupted", async () => {
    const user = newHost();
    const src = await source();
    const a = await addDestination(src.sourceId, user, { name: "A" });
    const b = await addDestination(src.sourceId, user, { name: "B" });
    expect((await act(b.destinationId, "start", user)).execution.status).toBe("SUCCEEDED");
    await t.fault({ service: "medialive", operation: "StartChannel", error: "ForbiddenException" });

    expect((await act(a.destinationId, "start", user)).execution.status).toBe("FAILED");
    expect((await get(a.destinationId, user)).status).toBe("error");
    expect(flowOf(src.flow.flowArn)?.status).toBe("ACTIVE");
    expect(await entryOf(b.streamKey)).toMatchObject({ receiving: true, interruptions: 0 });
    expect(await t.calls("mediaconnect", "StopFlow")).toBe(0);
  });

  it.each([
    { times: 1, what: "once (the SDK retries it)" },
    { times: 4, what: "more often than the SDK retries (the state retries it)" },
  ])("start: MediaConnect StartFlow 500 $what -> retried, the start succeeds", async ({ times }) => {
    const user = newHost();
    const src = await source();
    const { destinationId, streamKey } = await addDestination(src.sourceId, user);
    await t.fault({
      service: "mediaconnect",
      operation: "StartFlow",
      error: "InternalServerErrorException",
      times,
    });

    const { execution } = await act(destinationId, "start", user);
    expect(execution.status).toBe("SUCCEEDED");
    expect(await t.calls("mediaconnect", "StartFlow")).toBe(times + 1);
    expect(await get(destinationId, user)).toMatchObject({ status: "running" });
    expect(flowOf(src.flow.flowArn)?.status).toBe("ACTIVE");
    expect(await entryOf(streamKey)).toMatchObject({ receiving: true });
  });

  it("stop: MediaLive StopChannel throttled several times -> the stop still succeeds", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId, streamKey } = await addDestination(src.sourceId, user);
    await act(destinationId, "start", user);
    const channelId = (await get(destinationId, user)).mediaLive.channelId as string;
    await t.fault({
      service: "medialive",
      operation: "StopChannel",
      error: "TooManyRequestsException",
      times: 5,
    });

    const { execution } = await act(destinationId, "stop", user);
    expect(execution.status).toBe("SUCCEEDED");
    expect(await t.calls("medialive", "StopChannel")).toBeGreaterThanOrEqual(6);
    expect(await get(destinationId, user)).toMatchObject({ status: "idle" });
    expect(channelState(channelId)).toBe("IDLE");
    expect(await entryOf(streamKey)).toMatchObject({ receiving: false });
    await eventually(async () => flowOf(src.flow.flowArn)?.status === "STANDBY");
  });

  it("update: a refused UpdateChannel on a running destination -> `error`, nothing left billed, a stop recovers", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId } = await addDestination(src.sourceId, user);
    await act(destinationId, "start", user);
    const channelId = (await get(destinationId, user)).mediaLive.channelId as string;
    await t.fault({ service: "medialive", operation: "UpdateChannel", error: "BadRequestException" });

    const put = await t.api("PUT", `/destinations/${destinationId}`, { user, body: { streamKey: ytKey() } });
    expect(put.status).toBe(202);
    expect((await t.waitFor(put.body.executionArn)).status).toBe("FAILED");
    const d = await get(destinationId, user);
    expect(d.status).toBe("error");
    expect(d.error).toMatchObject({ code: "BadRequestException" });
    // The channel was stopped to be edited and is not running: its source flow has no running
    // destination left, so it must not stay ACTIVE (billed) either.
    expect(channelState(channelId)).toBe("IDLE");
    await eventually(async () => flowOf(src.flow.flowArn)?.status === "STANDBY", 3_000).catch(() => {
      throw new Error(
        `the flow stayed ${flowOf(src.flow.flowArn)?.status} after the failed update stopped the only running channel`,
      );
    });

    const stop = await act(destinationId, "stop", user);
    expect(stop.execution.status).toBe("SUCCEEDED");
    expect(await get(destinationId, user)).toMatchObject({ status: "idle" });
  });

  it("delete: DeleteInput fails once with a non-retryable error -> `error`; a second DELETE finishes it", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId } = await addDestination(src.sourceId, user, { backupStreamKey: ytKey() });
    await act(destinationId, "start", user);
    await t.fault({ service: "medialive", operation: "DeleteInput", error: "ForbiddenException" });

    const first = await t.api("DELETE", `/destinations/${destinationId}`, { user });
    expect(first.status).toBe(202);
    expect((await t.waitFor(first.body.executionArn)).status).toBe("FAILED");
    const failed = await get(destinationId, user);
    expect(failed.status).toBe("error");
    expect(failed.error).toMatchObject({ code: "ForbiddenException" });
    expect(t.liveMediaLive().inputs).toHaveLength(1);

    const second = await t.api("DELETE", `/destinations/${destinationId}`, { user });
    expect(second.status).toBe(202);
    expect(second.body.executionArn).not.toBe(first.body.executionArn);
    expect((await t.waitFor(second.body.executionArn)).status).toBe("SUCCEEDED");
    expect(await get(destinationId, user)).toMatchObject({ status: "deleted" });
    expectNothingLeft(src.flow.flowArn, [destinationId]);
    await eventually(async () => flowOf(src.flow.flowArn)?.status === "STANDBY");
  });
});

/** mulberry32: a small seeded PRNG, so a run of random faults can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe("random throttling and 5xx", () => {
  it("20% throttling/5xx on MediaLive and MediaConnect: add, start, stop and delete of 3 destinations all succeed, nothing orphaned", async () => {
    const user = newHost();
    const src = await source();
    // Per service: 10% throttled, and 1/9 of the rest a 5xx: 20% of all calls fail.
    // A fixed seed (DESTINATION_FAULT_SEED to try another): a failure can be replayed.
    vi.spyOn(Math, "random").mockImplementation(
      seeded(Number(process.env.DESTINATION_FAULT_SEED || 20_240_607)),
    );
    await t.fault({ service: "medialive", operation: "*", error: "TooManyRequestsException", rate: 0.1 });
    await t.fault({
      service: "medialive",
      operation: "*",
      error: "InternalServerErrorException",
      rate: 1 / 9,
    });
    await t.fault({ service: "mediaconnect", operation: "*", error: "TooManyRequestsException", rate: 0.1 });
    await t.fault({
      service: "mediaconnect",
      operation: "*",
      error: "ServiceUnavailableException",
      rate: 1 / 9,
    });

    /** A client retries 429 and 503 (they say "retry"); anything else is the answer. */
    async function call(method: string, path: string, body?: unknown) {
      for (let attempt = 1; ; attempt++) {
        const res = await t.api(method, path, { user, ...(body !== undefined ? { body } : {}) });
        if ((res.status !== 429 && res.status !== 503) || attempt >= 5) return res;
      }
    }
    async function run(method: string, path: string, body?: unknown) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(202);
      const execution = await t.waitFor(res.body.executionArn);
      expect(execution.status, `${method} ${path}: ${execution.error} ${execution.cause}`).toBe("SUCCEEDED");
      return res.body;
    }

    const ids = (
      await Promise.all(
        [1, 2, 3].map((n) =>
          run("POST", "/destinations", {
            name: `D${n}`,
            platform: "youtube",
            sourceId: src.sourceId,
            streamKey: ytKey(),
          }),
        ),
      )
    ).map((b) => b.destinationId as string);
    for (const id of ids) expect((await get(id, user)).status).toBe("idle");

    await Promise.all(ids.map((id) => run("POST", `/destinations/${id}/start`)));
    for (const id of ids) expect((await get(id, user)).status).toBe("running");
    expect(t.liveMediaLive().channels.filter((c) => c.state === "RUNNING")).toHaveLength(3);

    await Promise.all(ids.map((id) => run("POST", `/destinations/${id}/stop`)));
    for (const id of ids) expect((await get(id, user)).status).toBe("idle");

    await Promise.all(ids.map((id) => run("DELETE", `/destinations/${id}`)));
    for (const id of ids) expect((await get(id, user)).status).toBe("deleted");

    const hits = ((await t.sim("GET", "/_sim/faults")).body.faults as { hits: number }[]).reduce(
      (n, f) => n + f.hits,
      0,
    );
    expect(hits).toBeGreaterThan(5);
    await t.sim("DELETE", "/_sim/faults");
    expectNothingLeft(src.flow.flowArn, ids);
    await eventually(async () => flowOf(src.flow.flowArn)?.status === "STANDBY");
  });
});

describe("stream keys stay secret", () => {
  it("no stream key in any API answer, execution history or log line after add/start/update/failover/delete", async () => {
    const user = newHost();
    const logged: string[] = [];
    const capture = (chunk: unknown) => {
      logged.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      return true;
    };
    vi.spyOn(process.stdout, "write").mockImplementation(capture);
    vi.spyOn(process.stderr, "write").mockImplementation(capture);
    for (const m of ["log", "info", "warn", "error", "debug"] as const)
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      });
    logger.setLogLevel("DEBUG");
    try {
      const answers: string[] = [];
      const api = async (
        method: string,
        path: string,
        body?: unknown,
        as: { user: string; admin?: boolean } = { user },
      ) => {
        const res = await t.api(method, path, { ...as, ...(body !== undefined ? { body } : {}) });
        answers.push(res.raw);
        return res;
      };
      const waitOk = async (res: { status: number; body: { executionArn: string } }) => {
        expect(res.status).toBe(202);
        expect((await t.waitFor(res.body.executionArn)).status).toBe("SUCCEEDED");
      };

      const src = await source();
      const keys = { primary: ytKey(), backup: ytKey(), newPrimary: ytKey(), newBackup: ytKey() };
      const add = await api("POST", "/destinations", {
        name: "YouTube",
        platform: "youtube",
        sourceId: src.sourceId,
        streamKey: keys.primary,
        backupStreamKey: keys.backup,
        failoverEnabled: true,
      });
      await waitOk(add);
      const id = add.body.destinationId as string;
      await waitOk(await api("POST", `/destinations/${id}/start`));
      expect(await entryOf(keys.primary)).toMatchObject({ receiving: true });
      await waitOk(await api("PUT", `/destinations/${id}`, { streamKey: keys.newPrimary }));
      await waitOk(await api("PUT", `/destinations/${id}`, { backupStreamKey: keys.newBackup }));
      await waitOk(await api("POST", `/destinations/${id}/failover`, { to: "backup" }));
      expect(await entryOf(keys.newBackup)).toMatchObject({ receiving: true });
      await waitOk(await api("POST", `/destinations/${id}/failover`, { to: "primary" }));
      expect(await entryOf(keys.newPrimary)).toMatchObject({ receiving: true });
      // A refused add: the 400 must not echo the key either.
      const bad = await api("POST", "/destinations", {
        name: "bad",
        platform: "twitch",
        sourceId: src.sourceId,
        streamKey: keys.primary,
      });
      expect(bad.status).toBe(400);
      await api("GET", `/destinations/${id}`);
      await api("GET", "/destinations");
      await api("GET", `/destinations/${id}/metrics`);
      await api("GET", `/sources/${src.sourceId}/status`);
      await api("GET", `/destinations/${id}`, undefined, ADMIN);
      await waitOk(await api("POST", `/destinations/${id}/stop`));
      await waitOk(await api("DELETE", `/destinations/${id}`));
      await api("GET", `/destinations/${id}`);
      await api("GET", "/destinations?includeDeleted=true");

      const executions = (await Promise.all(LIFECYCLES.map((l) => executionsOf(l, id)))).flat();
      expect(executions.length).toBeGreaterThanOrEqual(8);
      const histories: string[] = [];
      for (const e of executions) {
        const arn = e.executionArn as string;
        histories.push(JSON.stringify(await t.history(arn, true)));
        await api("GET", `/executions/${encodeURIComponent(arn)}`);
      }

      // The channel really was pushing with the keys (the check below is not vacuous)...
      expect(await entryOf(keys.primary)).toBeDefined();
      // ...and the runtime logged while doing it.
      expect(logged.join("\n")).toContain(id);
      for (const key of Object.values(keys)) {
        for (const a of answers) expect(a, "an API answer holds a stream key").not.toContain(key);
        for (const h of histories) expect(h, "an execution history holds a stream key").not.toContain(key);
        for (const l of logged) expect(l, "a log line holds a stream key").not.toContain(key);
      }
      // The parameters holding them are gone with the destination.
      expect(parameterNames().filter((n) => n.includes(id))).toEqual([]);
    } finally {
      logger.setLogLevel("ERROR");
      vi.restoreAllMocks();
    }
  });
});
