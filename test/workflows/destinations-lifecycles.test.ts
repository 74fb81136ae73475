import { randomUUID } from "node:crypto";
import { ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import { RATES } from "#lib/destinations/rates.ts";
import { eventually, useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime();

const ADMIN = { user: "ops", admin: true } as const;
const YT_PRIMARY = "rtmp://a.rtmp.youtube.com/live2";
const YT_BACKUP = "rtmp://b.rtmp.youtube.com/live2?backup=1";

/** A fresh YouTube-shaped stream key (five groups of four), unique to the test. */
function ytKey(): string {
  const hex = randomUUID().replaceAll("-", "");
  return [0, 4, 8, 12, 16].map((i) => hex.slice(i, i + 4)).join("-");
}

/** A host of its own per test: the table (and so every earlier test's destinations) is shared by the file. */
const newHost = () => `host-${randomUUID().slice(0, 8)}`;

interface IngestEntry {
  url: string;
  streamName: string;
  receiving: boolean;
  interruptions: number;
  since: string | null;
}

async function source(name = "studio-srt") {
  const res = await t.api("POST", "/admin/sources", { ...ADMIN, body: { name, protocol: "srt-listener" } });
  expect(res.status).toBe(201);
  return res.body as { sourceId: string; flow: { flowArn: string } };
}

async function addDestination(
  sourceId: string,
  user: string,
  body: Record<string, unknown> = {},
): Promise<{ destinationId: string; streamKey: string }> {
  const streamKey = (body.streamKey as string | undefined) ?? ytKey();
  const res = await t.api("POST", "/destinations", {
    user,
    body: { name: "YouTube", platform: "youtube", sourceId, streamKey, ...body },
  });
  if (res.status !== 202) throw new Error(`add: ${res.status} ${JSON.stringify(res.body)}`);
  const execution = await t.waitFor(res.body.executionArn);
  expect(execution.status).toBe("SUCCEEDED");
  return { destinationId: res.body.destinationId as string, streamKey };
}

async function act(destinationId: string, action: "start" | "stop", user: string) {
  const res = await t.api("POST", `/destinations/${destinationId}/${action}`, { user });
  if (res.status !== 202) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
  const execution = await t.waitFor(res.body.executionArn);
  expect(execution.status).toBe("SUCCEEDED");
  return { res, execution };
}

async function get(destinationId: string, user: string) {
  const res = await t.api("GET", `/destinations/${destinationId}`, { user });
  expect(res.status).toBe(200);
  return res.body;
}

async function ingest(): Promise<IngestEntry[]> {
  return (await t.sim("GET", "/_sim/ingest")).body.ingest as IngestEntry[];
}

async function entryOf(streamKey: string): Promise<IngestEntry | undefined> {
  return (await ingest()).find((e) => e.streamName === streamKey);
}

const flowOf = (flowArn: string) =>
  t.h.rt.simulator.resources().mediaconnect.flows.find((f) => f.flowArn === flowArn) as
    | { status: string; outputs: { outputArn: string; mediaLiveInputArn?: string }[] }
    | undefined;

const parameterNames = () =>
  t.h.rt.simulator.resources().ssm.parameters.map((p) => String((p as { Name: unknown }).Name));

/** Executions of one lifecycle for one destination (names are `<lifecycle>-<destinationId>-<n>`). */
async function executionsOf(lifecycle: string, destinationId: string) {
  const stateMachineArn = t.h.rt.stateMachineArns[lifecycle];
  const res = await t.h.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
  return (res.executions ?? []).filter((e) => e.name?.includes(destinationId));
}

describe("destination-update", () => {
  it("updates an idle destination's stream key (202); the next start pushes the new key", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId, streamKey: oldKey } = await addDestination(src.sourceId, user);
    const newKey = ytKey();

    const put = await t.api("PUT", `/destinations/${destinationId}`, { user, body: { streamKey: newKey } });
    expect(put.status).toBe(202);
    expect(put.body).toMatchObject({ status: "updating", restarts: false, streamKeySet: true });
    expect(put.body.executionArn).toContain("destination-update");
    expect(put.raw).not.toContain(newKey);
    const execution = await t.waitFor(put.body.executionArn);
    expect(execution.status).toBe("SUCCEEDED");
    const path = await t.statePath(put.body.executionArn);
    expect(path).toContain("Update Channel");
    // An idle destination is updated in place: never started by the update.
    expect(path).not.toContain("Start Channel Again");
    expect(await t.calls("medialive", "StartChannel")).toBe(0);
    expect((await get(destinationId, user)).status).toBe("idle");
    // Nothing pushed yet: the channel is idle.
    expect((await ingest()).filter((e) => e.receiving)).toEqual([]);

    await act(destinationId, "start", user);
    expect(await entryOf(newKey)).toMatchObject({ url: YT_PRIMARY, receiving: true, interruptions: 0 });
    // The old key was never pushed to.
    const old = await entryOf(oldKey);
    expect(old === undefined || (!old.receiving && old.since === null && old.interruptions === 0)).toBe(true);
  });

  it("updates a running destination by restarting only its own channel; another one on the source is not interrupted", async () => {
    const user = newHost();
    const src = await source();
    const a = await addDestination(src.sourceId, user, { name: "A" });
    const b = await addDestination(src.sourceId, user, { name: "B" });
    await act(a.destinationId, "start", user);
    await act(b.destinationId, "start", user);
    const bChannel = (await get(b.destinationId, user)).mediaLive.channelId as string;
    const bSince = (await entryOf(b.streamKey))?.since;
    expect(bSince).toEqual(expect.any(String));
    const stopsBefore = await t.calls("medialive", "StopChannel");
    const startsBefore = await t.calls("medialive", "StartChannel");

    const newKey = ytKey();
    const put = await t.api("PUT", `/destinations/${a.destinationId}`, { user, body: { streamKey: newKey } });
    expect(put.status).toBe(202);
    expect(put.body).toMatchObject({ status: "updating", restarts: true, interrupts: [] });
    expect((await t.waitFor(put.body.executionArn)).status).toBe("SUCCEEDED");
    const path = await t.statePath(put.body.executionArn);
    expect(path).toEqual(
      expect.arrayContaining(["Stop Channel To Update", "Update Channel", "Start Channel Again"]),
    );

    expect(await get(a.destinationId, user)).toMatchObject({ status: "running", activeUrl: "primary" });
    expect(await entryOf(newKey)).toMatchObject({ url: YT_PRIMARY, receiving: true });
    expect(await entryOf(a.streamKey)).toMatchObject({ receiving: false });
    // B: never stopped, never interrupted, still receiving since its start.
    expect(await entryOf(b.streamKey)).toMatchObject({ receiving: true, interruptions: 0, since: bSince });
    expect(await get(b.destinationId, user)).toMatchObject({ status: "running" });
    expect(t.liveMediaLive().channels.find((c) => c.id === bChannel)).toMatchObject({ state: "RUNNING" });
    // Exactly one channel stopped and started again: A's.
    expect((await t.calls("medialive", "StopChannel")) - stopsBefore).toBe(1);
    expect((await t.calls("medialive", "StartChannel")) - startsBefore).toBe(1);
    expect(flowOf(src.flow.flowArn)?.status).toBe("ACTIVE");
  });

  it("a PUT changing only the name answers 200 and starts nothing", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId } = await addDestination(src.sourceId, user);
    const channelCalls = await t.calls("medialive", "UpdateChannel");

    const put = await t.api("PUT", `/destinations/${destinationId}`, { user, body: { name: "Renamed" } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ destinationId, name: "Renamed", status: "idle" });
    expect(put.body.executionArn).toBeUndefined();
    expect(await executionsOf("destination-update", destinationId)).toEqual([]);
    expect(await t.calls("medialive", "UpdateChannel")).toBe(channelCalls);
    expect(await get(destinationId, user)).toMatchObject({ name: "Renamed", status: "idle" });
  });
});

describe("failover and several destinations", () => {
  it("fails a running YouTube destination over to its backup URL and back, manually", async () => {
    const user = newHost();
    const src = await source();
    const backupKey = ytKey();
    const { destinationId, streamKey } = await addDestination(src.sourceId, user, {
      backupStreamKey: backupKey,
    });
    const added = await get(destinationId, user);
    expect(added).toMatchObject({ backupRtmpUrl: YT_BACKUP, backupStreamKeySet: true, activeUrl: "primary" });
    await act(destinationId, "start", user);
    expect(await entryOf(streamKey)).toMatchObject({ url: YT_PRIMARY, receiving: true });

    const toBackup = await t.api("POST", `/destinations/${destinationId}/failover`, {
      user,
      body: { to: "backup" },
    });
    expect(toBackup.status).toBe(202);
    expect(toBackup.body).toMatchObject({ activeUrl: "backup", restarts: true });
    expect((await t.waitFor(toBackup.body.executionArn)).status).toBe("SUCCEEDED");
    expect(await get(destinationId, user)).toMatchObject({ status: "running", activeUrl: "backup" });
    expect(await entryOf(backupKey)).toMatchObject({ url: YT_BACKUP, receiving: true });
    expect(await entryOf(streamKey)).toMatchObject({ url: YT_PRIMARY, receiving: false });
    const metrics = await t.api("GET", `/destinations/${destinationId}/metrics`, { user });
    expect(metrics.body).toMatchObject({ failovers: 1, activeUrl: "backup" });

    // Already there: 200, nothing started.
    const again = await t.api("POST", `/destinations/${destinationId}/failover`, {
      user,
      body: { to: "backup" },
    });
    expect(again.status).toBe(200);
    expect(again.body.executionArn).toBeUndefined();

    const toPrimary = await t.api("POST", `/destinations/${destinationId}/failover`, {
      user,
      body: { to: "primary" },
    });
    expect(toPrimary.status).toBe(202);
    expect((await t.waitFor(toPrimary.body.executionArn)).status).toBe("SUCCEEDED");
    expect(await get(destinationId, user)).toMatchObject({ status: "running", activeUrl: "primary" });
    expect(await entryOf(streamKey)).toMatchObject({ url: YT_PRIMARY, receiving: true });
    expect(await entryOf(backupKey)).toMatchObject({ url: YT_BACKUP, receiving: false });
  });

  it("runs two YouTube destinations of one source at once, both receiving", async () => {
    const user = newHost();
    const src = await source();
    const a = await addDestination(src.sourceId, user, { name: "YouTube main" });
    const b = await addDestination(src.sourceId, user, { name: "YouTube second" });
    const [startA, startB] = await Promise.all([
      t.api("POST", `/destinations/${a.destinationId}/start`, { user }),
      t.api("POST", `/destinations/${b.destinationId}/start`, { user }),
    ]);
    expect([startA.status, startB.status]).toEqual([202, 202]);
    expect((await t.waitFor(startA.body.executionArn)).status).toBe("SUCCEEDED");
    expect((await t.waitFor(startB.body.executionArn)).status).toBe("SUCCEEDED");

    const entries = await ingest();
    expect(entries).toHaveLength(2);
    expect(await entryOf(a.streamKey)).toMatchObject({ url: YT_PRIMARY, receiving: true, interruptions: 0 });
    expect(await entryOf(b.streamKey)).toMatchObject({ url: YT_PRIMARY, receiving: true, interruptions: 0 });
    expect((await get(a.destinationId, user)).status).toBe("running");
    expect((await get(b.destinationId, user)).status).toBe("running");
    // Two channels of their own on one flow. (Two concurrent starts may both call StartFlow: the
    // second one's refusal on a STARTING flow is tolerated by design, lib/aws/mediaconnect.ts.)
    expect(t.liveMediaLive().channels.filter((c) => c.state === "RUNNING")).toHaveLength(2);
    expect(flowOf(src.flow.flowArn)?.status).toBe("ACTIVE");
    expect(await t.calls("mediaconnect", "StopFlow")).toBe(0);
  });
});

describe("concurrent requests", () => {
  it("five concurrent starts of one destination start one execution", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId } = await addDestination(src.sourceId, user);

    const answers = await Promise.all(
      Array.from({ length: 5 }, () => t.api("POST", `/destinations/${destinationId}/start`, { user })),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    const arns = new Set(answers.map((a) => a.body.executionArn as string));
    expect(arns.size).toBe(1);
    const [arn] = [...arns] as [string];
    expect((await t.waitFor(arn)).status).toBe("SUCCEEDED");
    expect(await executionsOf("destination-start", destinationId)).toHaveLength(1);
    expect(await t.calls("medialive", "StartChannel")).toBe(1);
    expect((await get(destinationId, user)).status).toBe("running");
    // Once it runs, a start answers 200 and starts nothing.
    const again = await t.api("POST", `/destinations/${destinationId}/start`, { user });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "running" });
    expect(await executionsOf("destination-start", destinationId)).toHaveLength(1);
  });

  it("a start while a stop runs answers 409 naming the status; a second stop gets the same execution", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId } = await addDestination(src.sourceId, user);
    await act(destinationId, "start", user);
    // Keep the stop in its StopChannel call for a while.
    await t.fault({ service: "medialive", operation: "StopChannel", delayMs: 1500 });

    const stop = await t.api("POST", `/destinations/${destinationId}/stop`, { user });
    expect(stop.status).toBe(202);
    await eventually(async () => (await get(destinationId, user)).status === "stopping");

    const start = await t.api("POST", `/destinations/${destinationId}/start`, { user });
    expect(start.status).toBe(409);
    expect(start.body.error).toMatchObject({ code: "conflict", details: { status: "stopping" } });
    expect(start.body.error.message).toContain("stopping");
    const stopAgain = await t.api("POST", `/destinations/${destinationId}/stop`, { user });
    expect(stopAgain.status).toBe(202);
    expect(stopAgain.body.executionArn).toBe(stop.body.executionArn);

    expect((await t.waitFor(stop.body.executionArn)).status).toBe("SUCCEEDED");
    expect((await get(destinationId, user)).status).toBe("idle");
    // The refused start started nothing: only the first start ever ran.
    expect(await executionsOf("destination-start", destinationId)).toHaveLength(1);
    expect(await executionsOf("destination-stop", destinationId)).toHaveLength(1);
  });
});

describe("who sees what", () => {
  it("a host cannot see or act on another host's destination (404); an admin can", async () => {
    const owner = newHost();
    const other = newHost();
    const src = await source();
    const { destinationId } = await addDestination(src.sourceId, owner);

    for (const [method, path, body] of [
      ["GET", `/destinations/${destinationId}`, undefined],
      ["GET", `/destinations/${destinationId}/metrics`, undefined],
      ["POST", `/destinations/${destinationId}/start`, undefined],
      ["POST", `/destinations/${destinationId}/stop`, undefined],
      ["PUT", `/destinations/${destinationId}`, { name: "mine now" }],
      ["POST", `/destinations/${destinationId}/failover`, { to: "primary" }],
      ["DELETE", `/destinations/${destinationId}`, undefined],
    ] as const) {
      const res = await t.api(method, path, { user: other, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toMatchObject({ code: "not_found" });
    }
    // Nothing changed or started for the other host.
    expect(await get(destinationId, owner)).toMatchObject({ status: "idle", name: "YouTube" });
    expect(await executionsOf("destination-start", destinationId)).toEqual([]);
    expect(await executionsOf("destination-delete", destinationId)).toEqual([]);

    const asAdmin = await t.api("GET", `/destinations/${destinationId}`, ADMIN);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toMatchObject({ destinationId, ownerUserId: owner });
    const adminStart = await t.api("POST", `/destinations/${destinationId}/start`, ADMIN);
    expect(adminStart.status).toBe(202);
    expect((await t.waitFor(adminStart.body.executionArn)).status).toBe("SUCCEEDED");
    expect((await get(destinationId, owner)).status).toBe("running");
  });

  it("GET /destinations lists only the caller's destinations (admins: everyone's)", async () => {
    const hostA = newHost();
    const hostB = newHost();
    const src = await source();
    const a1 = await addDestination(src.sourceId, hostA, { name: "A1" });
    const a2 = await addDestination(src.sourceId, hostA, { name: "A2" });
    const b1 = await addDestination(src.sourceId, hostB, { name: "B1" });

    const listA = await t.api("GET", "/destinations", { user: hostA });
    expect(listA.status).toBe(200);
    const idsA = (listA.body.destinations as { destinationId: string; ownerUserId: string }[]).map(
      (d) => d.destinationId,
    );
    expect(idsA.sort()).toEqual([a1.destinationId, a2.destinationId].sort());
    const listB = await t.api("GET", `/destinations?sourceId=${src.sourceId}`, { user: hostB });
    expect(listB.body.destinations.map((d: { destinationId: string }) => d.destinationId)).toEqual([
      b1.destinationId,
    ]);
    const listAdmin = await t.api("GET", `/destinations?sourceId=${src.sourceId}`, ADMIN);
    expect(listAdmin.body.destinations.map((d: { destinationId: string }) => d.destinationId).sort()).toEqual(
      [a1.destinationId, a2.destinationId, b1.destinationId].sort(),
    );
  });
});

describe("destination-delete and sources", () => {
  it("DELETE of a running destination stops and deletes everything; the flow stops once none runs", async () => {
    const user = newHost();
    const src = await source();
    const a = await addDestination(src.sourceId, user, { name: "A", backupStreamKey: ytKey() });
    const b = await addDestination(src.sourceId, user, { name: "B" });
    await act(a.destinationId, "start", user);
    await act(b.destinationId, "start", user);
    const aRecord = await get(a.destinationId, user);
    const bRecord = await get(b.destinationId, user);
    expect(parameterNames().filter((n) => n.includes(a.destinationId))).toHaveLength(2);
    expect(flowOf(src.flow.flowArn)?.outputs).toHaveLength(2);

    const del = await t.api("DELETE", `/destinations/${a.destinationId}`, { user });
    expect(del.status).toBe(202);
    expect(del.body).toMatchObject({ status: "deleting" });
    expect((await t.waitFor(del.body.executionArn)).status).toBe("SUCCEEDED");

    const deleted = await get(a.destinationId, user);
    expect(deleted).toMatchObject({ status: "deleted", deletedAt: expect.any(String) });
    expect(deleted.mediaLive.channelId).toBeUndefined();
    expect(deleted.flowOutputArn).toBeUndefined();
    const { channels, inputs } = t.liveMediaLive();
    expect(channels.map((c) => c.id)).toEqual([bRecord.mediaLive.channelId]);
    expect(inputs.map((i) => i.id)).toEqual([bRecord.mediaLive.inputId]);
    expect(channels.some((c) => c.id === aRecord.mediaLive.channelId)).toBe(false);
    const flow = flowOf(src.flow.flowArn);
    expect(flow?.outputs.map((o) => o.outputArn)).toEqual([bRecord.flowOutputArn]);
    expect(parameterNames().filter((n) => n.includes(a.destinationId))).toEqual([]);
    expect(parameterNames().filter((n) => n.includes(b.destinationId))).toHaveLength(1);
    expect(await entryOf(a.streamKey)).toMatchObject({ receiving: false });
    // B still runs on the flow, untouched.
    expect(flow?.status).toBe("ACTIVE");
    expect(await entryOf(b.streamKey)).toMatchObject({ receiving: true, interruptions: 0 });
    // A deleted destination is out of the list.
    const list = await t.api("GET", "/destinations", { user });
    expect(list.body.destinations.map((d: { destinationId: string }) => d.destinationId)).toEqual([
      b.destinationId,
    ]);
    // DELETE again: 200, already deleted.
    const again = await t.api("DELETE", `/destinations/${a.destinationId}`, { user });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "deleted" });

    const delB = await t.api("DELETE", `/destinations/${b.destinationId}`, { user });
    expect(delB.status).toBe(202);
    expect((await t.waitFor(delB.body.executionArn)).status).toBe("SUCCEEDED");
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    expect(flowOf(src.flow.flowArn)?.outputs).toEqual([]);
    expect(parameterNames().filter((n) => n.includes(b.destinationId))).toEqual([]);
    await eventually(async () => flowOf(src.flow.flowArn)?.status === "STANDBY");
  });

  it("deleting a source with destinations is 409; once they are deleted it is 200 and the flow is gone", async () => {
    const user = newHost();
    const src = await source();
    const a = await addDestination(src.sourceId, user, { name: "A" });
    const b = await addDestination(src.sourceId, user, { name: "B" });
    await act(a.destinationId, "start", user);

    const whileRunning = await t.api("DELETE", `/admin/sources/${src.sourceId}`, ADMIN);
    expect(whileRunning.status).toBe(409);
    expect(whileRunning.body.error.code).toBe("conflict");
    expect(whileRunning.body.error.details.destinations).toEqual(
      expect.arrayContaining([
        { destinationId: a.destinationId, status: "running" },
        { destinationId: b.destinationId, status: "idle" },
      ]),
    );
    expect(flowOf(src.flow.flowArn)?.status).toBe("ACTIVE");
    expect(await entryOf(a.streamKey)).toMatchObject({ receiving: true, interruptions: 0 });

    await act(a.destinationId, "stop", user);
    const whileIdle = await t.api("DELETE", `/admin/sources/${src.sourceId}`, ADMIN);
    expect(whileIdle.status).toBe(409);
    expect(flowOf(src.flow.flowArn)).toBeDefined();

    for (const d of [a, b]) {
      const del = await t.api("DELETE", `/destinations/${d.destinationId}`, { user });
      expect(del.status).toBe(202);
      expect((await t.waitFor(del.body.executionArn)).status).toBe("SUCCEEDED");
    }
    await eventually(async () => flowOf(src.flow.flowArn)?.status === "STANDBY");
    const res = await t.api("DELETE", `/admin/sources/${src.sourceId}`, ADMIN);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sourceId: src.sourceId, deleted: true });
    await eventually(async () => flowOf(src.flow.flowArn) === undefined);
    expect((await t.api("GET", `/admin/sources/${src.sourceId}`, ADMIN)).status).toBe(404);
    // A new destination on it: 404 unknown source.
    const add = await t.api("POST", "/destinations", {
      user,
      body: { name: "late", platform: "youtube", sourceId: src.sourceId, streamKey: ytKey() },
    });
    expect(add.status).toBe(404);
  });
});

describe("metrics and source status", () => {
  it("GET /destinations/{id}/metrics after a start and a stop: one start, running seconds and a cost", async () => {
    const user = newHost();
    const src = await source();
    const { destinationId } = await addDestination(src.sourceId, user);
    const before = await t.api("GET", `/destinations/${destinationId}/metrics`, { user });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ starts: 0, runningSeconds: 0, failovers: 0, estimatedCostUsd: 0 });

    await act(destinationId, "start", user);
    await new Promise((r) => setTimeout(r, 1_200));
    await act(destinationId, "stop", user);

    const res = await t.api("GET", `/destinations/${destinationId}/metrics`, { user });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ destinationId, status: "idle", starts: 1, failovers: 0 });
    expect(res.body.runningSeconds).toBeGreaterThan(0);
    // One start is billed at MediaLive's 10-minute minimum, at the documented hourly rate.
    const minimum = (RATES.mediaLiveMinimumMinutes / 60) * RATES.mediaLiveChannelPerHour;
    expect(res.body.estimatedCostUsd).toBeCloseTo(minimum, 2);
    expect(res.body.rates).toMatchObject({
      mediaLiveChannelPerHour: RATES.mediaLiveChannelPerHour,
      source: expect.any(String),
    });
    // Stopped: the running time no longer grows.
    await new Promise((r) => setTimeout(r, 1_100));
    const later = await t.api("GET", `/destinations/${destinationId}/metrics`, { user });
    expect(later.body.runningSeconds).toBe(res.body.runningSeconds);

    // The flow ran as long as the destination needed it: its billed time is closed on the source.
    const flowUsage = (await t.api("GET", `/admin/sources/${src.sourceId}`, ADMIN)).body.flowUsage;
    expect(flowUsage.activeSince).toBeUndefined();
    expect(flowUsage.activeSeconds).toBeGreaterThanOrEqual(1);
    // GET /admin/cost: the destination's run and the flow's, on today's line of the daily figures.
    const cost = await t.api("GET", "/admin/cost?days=1", ADMIN);
    expect(cost.status).toBe(200);
    expect(cost.body.destinations).toContainEqual(
      expect.objectContaining({ destinationId, estimatedCostUsd: Number(minimum.toFixed(2)) }),
    );
    expect(cost.body.sources).toContainEqual(
      expect.objectContaining({
        sourceId: src.sourceId,
        flow: expect.objectContaining({ activeHours: expect.any(Number) }),
      }),
    );
    const today = new Date().toISOString().slice(0, 10);
    const todayCost = cost.body.daily.find((d: { date: string }) => d.date === today).estimatedCostUsd;
    expect(todayCost).toBeGreaterThanOrEqual(Number(minimum.toFixed(2)));
  });

  it("GET /sources/{id}/status shows the flow, outputs used of 50 and the running destinations", async () => {
    const user = newHost();
    const src = await source();
    const idle = await t.api("GET", `/sources/${src.sourceId}/status`, { user });
    expect(idle.status).toBe(200);
    expect(idle.body).toMatchObject({
      sourceId: src.sourceId,
      flowStatus: "STANDBY",
      outputs: { used: 0, limit: 50 },
      runningDestinations: [],
    });

    const a = await addDestination(src.sourceId, user, { name: "A" });
    const b = await addDestination(src.sourceId, user, { name: "B" });
    await act(a.destinationId, "start", user);
    const res = await t.api("GET", `/sources/${src.sourceId}/status`, { user: newHost() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      flowStatus: "ACTIVE",
      outputs: { used: 2, limit: 50 },
      runningDestinations: [a.destinationId],
      destinations: 2,
    });
    await act(b.destinationId, "start", user);
    const both = await t.api("GET", `/sources/${src.sourceId}/status`, { user });
    expect([...both.body.runningDestinations].sort()).toEqual([a.destinationId, b.destinationId].sort());
    expect((await t.api("GET", `/sources/${randomUUID()}/status`, { user })).status).toBe(404);
  });
});
