import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateChannelCommand,
  CreateInputCommand,
  DescribeChannelCommand,
  StartChannelCommand,
} from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { channelKey } from "#lib/channels/model.ts";
import { sessionKey } from "#lib/sessions/model.ts";
import { channelInput, clients } from "#test/simulator/helpers.ts";
import { eventually, useLocalRuntime } from "./harness.ts";
import { ADMIN, about, pastGrace, reconcileRuns } from "./reconcile-runs.ts";

// Each class of finding created on purpose, found by a dry run with its reason, repaired by real
// runs, and gone from the run after.
const t = useLocalRuntime();
const { reconcile, reconcileUntil } = reconcileRuns(t);
const ml = () => clients(t.h.rt.endpoints.simulator).ml;
const ddb = () =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: t.h.rt.endpoints.dynamodb, region: "us-east-1" }),
  );
const channelState = async (id: string) =>
  (
    await ml()
      .send(new DescribeChannelCommand({ ChannelId: id }))
      .catch(() => ({ State: "DELETED" }))
  ).State;

describe("reconcile", () => {
  it("orphan: a channel made by hand with castflow's tags for a session that does not exist is stopped, deleted, and so is its input", async () => {
    const ghost = `ghost-${randomUUID().slice(0, 8)}`;
    const tags = { "castflow:managed-by": "castflow", "castflow:stage": "dev", "castflow:session-id": ghost };
    const input = await ml().send(
      new CreateInputCommand({
        Name: "by-hand",
        Type: "RTMP_PUSH",
        Destinations: [{ StreamName: "live/x" }],
        Tags: tags,
      }),
    );
    const inputId = input.Input?.Id ?? "";
    const made = await ml().send(
      new CreateChannelCommand(channelInput(inputId, { Name: "by-hand", Tags: tags })),
    );
    const channelId = made.Channel?.Id ?? "";
    await eventually(async () => (await channelState(channelId)) === "IDLE");
    await ml().send(new StartChannelCommand({ ChannelId: channelId }));
    await eventually(async () => (await channelState(channelId)) === "RUNNING");

    const dry = await reconcile(true);
    expect(about(dry, channelId)).toEqual([
      expect.objectContaining({
        class: "orphan",
        repair: { action: "stop-channel", channelId },
        action: "proposed",
        costPerHourUsd: 1.5,
      }),
    ]);
    expect(about(dry, channelId)[0]?.reason).toContain(ghost);
    expect(dry.counts.orphan).toBeGreaterThanOrEqual(1);
    expect(await channelState(channelId)).toBe("RUNNING"); // a dry run changes nothing

    const soon = await reconcile();
    // Seen only moments ago (when this whole run ended within the grace period of the dry run's
    // start, as it does unless the machine is loaded): proposed, not repaired yet, a lifecycle may
    // be about to record it.
    if (Date.parse(soon.finishedAt) - Date.parse(dry.startedAt) < 600) {
      expect(about(soon, channelId)[0]).toMatchObject({ action: "proposed" });
      expect(await channelState(channelId)).toBe("RUNNING");
    }
    await pastGrace();
    const next = await reconcile();
    // The stop was made by the first real run that came a grace period after the dry run: this
    // one, or (on a loaded machine) already the one before.
    const stopRun = [soon, next].find((run) => {
      const f = about(run, channelId)[0];
      return f?.repair.action === "stop-channel" && f.action === "repaired";
    });
    expect(stopRun).toBeDefined();
    expect(stopRun?.savedPerHourUsd).toBeGreaterThanOrEqual(1.5);
    // Stopped (IDLE), or already being deleted when the stop came one run early.
    await eventually(async () =>
      ["IDLE", "DELETING", "DELETED"].includes(String(await channelState(channelId))),
    );

    // Teardown order across runs: the channel (once IDLE), then its input (once DETACHED).
    const [last] = (
      await reconcileUntil((run) => about(run, channelId).length === 0 && about(run, inputId).length === 0)
    ).slice(-1);
    expect(last?.findings.filter((f) => f.class === "orphan")).toEqual([]);
    expect(["DELETING", "DELETED"]).toContain(await channelState(channelId));
    expect(t.liveMediaLive().inputs.map((i) => i.id)).not.toContain(inputId);
  });

  it("stuck: a go-live whose execution was stopped mid-way is settled by the lifecycle that finishes it", async () => {
    const host = `host-${randomUUID().slice(0, 8)}`;
    await t.persistentChannel(host);
    const sessionId = await t.createSession(host);
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`, { user: host });
    expect(start.status).toBe(202);
    await eventually(async () => (await t.session(sessionId, host)).mediaLive?.channelId !== undefined);
    await t.abort(start.body.executionArn);
    expect((await t.session(sessionId, host)).streaming.status).toBe("starting");
    await new Promise((r) => setTimeout(r, 700)); // past the grace period (300 s at the time scale)

    const dry = await reconcile(true);
    expect(about(dry, sessionId)).toEqual([
      expect.objectContaining({
        class: "stuck",
        repair: { action: "settle", executionArn: start.body.executionArn },
      }),
    ]);
    await pastGrace();
    const real = await reconcile();
    expect(about(real, sessionId)[0]).toMatchObject({ action: "repaired" });
    // The settle is stop-streaming (go-live's settledBy): the session ends idle, its channel stopped.
    await eventually(async () => (await t.session(sessionId, host)).streaming.status === "idle", 20_000);
    const channelId = (await t.session(sessionId, host)).mediaLive.channelId as string;
    expect(await channelState(channelId)).toBe("IDLE");
  });

  it("claim leak and idle spend: a persistent channel LIVE for a session that does not exist, a channel RUNNING for an idle session", async () => {
    const host = `host-${randomUUID().slice(0, 8)}`;
    const pc = await t.persistentChannel(host);
    const sessionId = await t.createSession(host);
    const live = await t.goLive(sessionId, host);
    expect(live.execution.status).toBe("SUCCEEDED");
    const s = await t.session(sessionId, host);
    // By hand, as an operator editing records would: the session says idle while its channel runs,
    // and a second persistent channel says LIVE for a session that never existed.
    await ddb().send(
      new UpdateCommand({
        TableName: t.h.rt.tableName,
        Key: sessionKey(sessionId),
        // Stopped just now (as far as the record says): its channel is not kept past the idle TTL.
        UpdateExpression:
          "SET streaming.#s = :idle, streaming.isLive = :f, streaming.stoppedAt = :now, updatedAt = :old",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: {
          ":idle": "idle",
          ":f": false,
          ":now": new Date().toISOString(),
          ":old": "2026-01-01T00:00:00.000Z",
        },
      }),
    );
    const other = await t.persistentChannel(`host-${randomUUID().slice(0, 8)}`);
    await ddb().send(
      new UpdateCommand({
        TableName: t.h.rt.tableName,
        Key: channelKey(other.channelId),
        UpdateExpression: "SET #state = :live, currentSessionId = :ghost, updatedAt = :old",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: {
          ":live": "LIVE",
          ":ghost": "no-such-session",
          ":old": "2026-01-01T00:00:00.000Z",
        },
      }),
    );
    expect(pc.channelId).not.toBe(other.channelId);

    const dry = await reconcile(true);
    expect(about(dry, s.mediaLive.channelId)).toEqual([
      expect.objectContaining({
        class: "idle-spend",
        repair: { action: "stop-channel", channelId: s.mediaLive.channelId },
      }),
    ]);
    expect(about(dry, other.channelId)).toEqual([
      expect.objectContaining({
        class: "claim-leak",
        repair: { action: "release-claim", channelId: other.channelId, sessionId: "no-such-session" },
      }),
    ]);
    await pastGrace();
    const real = await reconcile();
    expect(about(real, s.mediaLive.channelId)[0]?.action).toBe("repaired");
    expect(about(real, other.channelId)[0]?.action).toBe("repaired");
    expect((await t.channel(other.channelId)).state).toBe("IDLE");
    await eventually(async () => (await channelState(s.mediaLive.channelId)) === "IDLE");
    const after = await reconcile();
    expect(about(after, other.channelId)).toEqual([]);
    expect(about(after, s.mediaLive.channelId)).toEqual([]);
  });

  it("drift: a session live on a channel stopped behind castflow's back is stopped by stop-streaming", async () => {
    const host = `host-${randomUUID().slice(0, 8)}`;
    await t.persistentChannel(host);
    const sessionId = await t.createSession(host);
    expect((await t.goLive(sessionId, host)).execution.status).toBe("SUCCEEDED");
    const channelId = (await t.session(sessionId, host)).mediaLive.channelId as string;
    // Stopped in the console: the record still says live.
    const forced = await t.sim("POST", "/_sim/medialive/channel-state", { channelId, state: "IDLE" });
    expect(forced.status).toBe(200);
    await pastGrace(); // the go-live wrote the record a moment ago

    const dry = await reconcile(true);
    expect(about(dry, sessionId)).toEqual([
      expect.objectContaining({
        class: "drift",
        reason: `Session ${sessionId} is live but its channel ${channelId} is IDLE`,
        repair: {
          action: "run-lifecycle",
          lifecycle: "stop-streaming",
          input: { sessionId, attempt: 1 },
          from: 1,
        },
        action: "proposed",
      }),
    ]);
    expect((await t.session(sessionId, host)).streaming.status).toBe("live");
    await pastGrace();
    await reconcileUntil((run) => about(run, sessionId)[0]?.action === "repaired");
    await eventually(async () => (await t.session(sessionId, host)).streaming.status === "idle", 20_000);
    await pastGrace();
    expect(about(await reconcile(), sessionId)).toEqual([]);
  });

  it("lists runs newest first; an unknown run is 404; hosts may not reconcile", async () => {
    const a = await reconcile(true);
    const b = await reconcile(true);
    const list = await t.api("GET", "/admin/reconcile/runs", ADMIN);
    expect(list.status).toBe(200);
    const ids = (list.body.runs as { runId: string }[]).map((r) => r.runId);
    expect(ids.indexOf(b.runId)).toBeLessThan(ids.indexOf(a.runId));
    // One run a page: the newest, then the one before it through nextToken.
    const first = await t.api("GET", "/admin/reconcile/runs?limit=1", ADMIN);
    expect(first.body.runs.map((r: { runId: string }) => r.runId)).toEqual([ids[0]]);
    const second = await t.api(
      "GET",
      `/admin/reconcile/runs?limit=1&nextToken=${encodeURIComponent(first.body.nextToken)}`,
      ADMIN,
    );
    expect(second.body.runs.map((r: { runId: string }) => r.runId)).toEqual([ids[1]]);
    for (const query of ["limit=0", "limit=101", "nextToken=bm9wZQ"]) {
      const res = await t.api("GET", `/admin/reconcile/runs?${query}`, ADMIN);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain(query.split("=")[0]);
    }
    expect((await t.api("GET", "/admin/reconcile/runs/r-nope", ADMIN)).status).toBe(404);
    expect((await t.api("POST", "/admin/reconcile", { user: "host-1", body: {} })).status).toBe(403);
    const bad = await t.api("POST", "/admin/reconcile", { ...ADMIN, body: { dryRun: "yes" } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("dryRun");
  });

  it("GET /admin/cost: a session that went live shows its running time and cost against an always-on channel", async () => {
    const host = `host-${randomUUID().slice(0, 8)}`;
    await t.persistentChannel(host);
    const sessionId = await t.createSession(host);
    expect((await t.goLive(sessionId, host)).execution.status).toBe("SUCCEEDED");
    expect((await t.stopStreaming(sessionId, host)).execution.status).toBe("SUCCEEDED");
    const res = await t.api("GET", "/admin/cost?days=1", ADMIN);
    expect(res.status).toBe(200);
    const mine = (
      res.body.sessions as { sessionId: string; estimatedCostUsd: number; alwaysOnCostUsd: number }[]
    ).find((s) => s.sessionId === sessionId);
    // One start: MediaLive's 10-minute minimum, at the documented rate.
    expect(mine?.estimatedCostUsd).toBe(0.25);
    expect(res.body.total).toMatchObject({
      estimatedCostUsd: expect.any(Number),
      alwaysOnCostUsd: expect.any(Number),
    });
    expect(res.body.rates.source).toContain("lib/destinations/rates.ts");
    const bad = await t.api("GET", "/admin/cost?days=0", ADMIN);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("days");
    expect((await t.api("GET", "/admin/cost", { user: host })).status).toBe(403);
  });
});
