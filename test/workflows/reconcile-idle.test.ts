import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateFlowCommand, StartFlowCommand, TagResourceCommand } from "@aws-sdk/client-mediaconnect";
import { DescribeChannelCommand, DescribeInputCommand } from "@aws-sdk/client-medialive";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { resetConfig } from "#lib/config.ts";
import { destinationKey } from "#lib/destinations/model.ts";
import { listNoInput } from "#lib/sessions/input-signal.ts";
import { clients } from "#test/simulator/helpers.ts";
import { eventually, TEST_TIME_SCALE, useLocalRuntime } from "./harness.ts";
import { ADMIN, about, pastGrace, reconcileRuns } from "./reconcile-runs.ts";

// Idle spend the simulator has to model on purpose: a live without input (MediaLive's "RTMP Has
// No Audio/Video" alerts), stopped resources kept past the idle TTL, and MediaConnect flows.
const t = useLocalRuntime();
const { reconcile, reconcileUntil } = reconcileRuns(t);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sdk = () => clients(t.h.rt.endpoints.simulator);
const channelState = async (id: string) =>
  (
    await sdk()
      .ml.send(new DescribeChannelCommand({ ChannelId: id }))
      .catch(() => ({ State: "DELETED" }))
  ).State;
const inputState = async (id: string) =>
  (
    await sdk()
      .ml.send(new DescribeInputCommand({ InputId: id }))
      .catch(() => ({ State: "DELETED" }))
  ).State;
const flowStatus = (flowArn: string) =>
  (
    t.h.rt.simulator.resources().mediaconnect.flows.find((f) => f.flowArn === flowArn) as
      | { status: string }
      | undefined
  )?.status ?? "DELETED";

/** Runs `fn` with one castflow setting changed (the task functions run in this process). */
async function withSetting<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  resetConfig();
  try {
    return await fn();
  } finally {
    process.env[name] = before;
    resetConfig();
  }
}

describe("reconcile: idle spend", () => {
  it("a host who goes live with no encoder is stopped; the stopped channel and input kept past the TTL are deleted; going live again makes new ones", async () => {
    const host = `host-${randomUUID().slice(0, 8)}`;
    await t.persistentChannel(host);
    const sessionId = await t.createSession(host);
    expect((await t.goLive(sessionId, host)).execution.status).toBe("SUCCEEDED");
    const s = await t.session(sessionId, host);
    const channelId = s.mediaLive.channelId as string;
    const inputId = s.mediaLive.inputIds.host as string;

    // The encoder never sends: MediaLive sets "RTMP Has No Audio/Video"; the input-signal reaction records it.
    expect((await t.sim("POST", "/_sim/sources", { inputId, pushing: false })).status).toBe(200);
    await eventually(async () => (await listNoInput()).some((n) => n.channelId === channelId));
    // Before RECONCILE_IDLE_INPUT_MINUTES (25 min, 3 s at the test time scale): nothing to say.
    expect(about(await reconcile(true), channelId)).toEqual([]);
    await sleep(25 * 60_000 * TEST_TIME_SCALE + 200);

    const dry = await reconcile(true);
    expect(about(dry, channelId)).toEqual([
      expect.objectContaining({
        class: "idle-spend",
        repair: {
          action: "run-lifecycle",
          lifecycle: "stop-streaming",
          input: { sessionId, attempt: 1 },
          from: 1,
        },
        action: "proposed",
      }),
    ]);
    expect(about(dry, channelId)[0]?.reason).toMatch(
      new RegExp(
        `^Session ${sessionId} is live but its channel ${channelId} has received nothing from the host's encoder since `,
      ),
    );
    expect((await t.session(sessionId, host)).streaming.status).toBe("live"); // a dry run changes nothing

    await pastGrace();
    const runs = await reconcileUntil((run) => about(run, channelId)[0]?.action === "repaired");
    expect(runs.at(-1)?.findings.find((f) => f.resource.id === channelId)?.repair.action).toBe(
      "run-lifecycle",
    );
    await eventually(async () => (await t.session(sessionId, host)).streaming.status === "idle", 20_000);
    expect(await channelState(channelId)).toBe("IDLE");
    // The stop cleared the alerts, and the reaction what it had recorded.
    await eventually(async () => !(await listNoInput()).some((n) => n.channelId === channelId));
    await pastGrace();
    expect(about(await reconcile(), channelId)).toEqual([]);

    // Kept past the idle TTL (2 s here): the channel goes first, then its input once detached.
    await withSetting("RECONCILE_IDLE_RESOURCE_TTL_HOURS", String(2 / 3600), async () => {
      await sleep(2_200);
      const dryTtl = await reconcile(true);
      expect(about(dryTtl, sessionId)).toEqual([
        expect.objectContaining({
          class: "idle-spend",
          repair: expect.objectContaining({ action: "retire-session-resources", sessionId }),
        }),
      ]);
      expect(about(dryTtl, sessionId)[0]?.reason).toContain("idle TTL");
      await pastGrace();
      // Retired first (taken off the record, so no go-live adopts them again), then deleted as
      // orphans: the channel, then its input once detached.
      const ttlRuns = await reconcileUntil(
        async () =>
          ["DELETING", "DELETED"].includes(String(await channelState(channelId))) &&
          ["DELETING", "DELETED"].includes(String(await inputState(inputId))),
      );
      const repaired = ttlRuns.flatMap((r) => r.findings.filter((f) => f.action === "repaired"));
      expect(repaired.map((f) => f.repair.action).sort()).toEqual([
        "delete-channel",
        "delete-input",
        "retire-session-resources",
      ]);
      const retired = await t.session(sessionId, host);
      expect(retired.mediaLive.channelId).toBeUndefined();
      expect(retired.mediaLive.inputIds.host).toBeUndefined();
      await eventually(async () => (await channelState(channelId)) === "DELETED");
      await pastGrace();
      expect((await reconcile()).findings).toEqual([]);
    });

    // The session goes live again on new resources.
    const again = await t.goLive(sessionId, host);
    expect(again.execution.status).toBe("SUCCEEDED");
    const now = await t.session(sessionId, host);
    expect(now.streaming.status).toBe("live");
    expect(now.mediaLive.channelId).not.toBe(channelId);
    expect(now.mediaLive.inputIds.host).not.toBe(inputId);
  });

  it("an ACTIVE flow whose users no longer need it is released; an orphan flow made by hand is stopped and deleted", async () => {
    const src = await t.api("POST", "/admin/sources", {
      ...ADMIN,
      body: { name: "cam", protocol: "srt-listener" },
    });
    expect(src.status).toBe(201);
    const { sourceId } = src.body as { sourceId: string };
    const flowArn = src.body.flow.flowArn as string;
    const user = `host-${randomUUID().slice(0, 8)}`;
    const add = await t.api("POST", "/destinations", {
      user,
      body: { name: "YouTube", platform: "youtube", sourceId, streamKey: "abcd-efgh-ijkl-mnop-qrst" },
    });
    expect(add.status).toBe(202);
    expect((await t.waitFor(add.body.executionArn)).status).toBe("SUCCEEDED");
    const { destinationId } = add.body as { destinationId: string };
    const start = await t.api("POST", `/destinations/${destinationId}/start`, { user });
    expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");
    expect(flowStatus(flowArn)).toBe("ACTIVE");

    // A destination-stop that died after stopping the channel and before releasing the flow:
    // the record says idle, the flow still lists it as a user.
    const channelId = (await t.api("GET", `/destinations/${destinationId}`, { user })).body.channelId as
      | string
      | undefined;
    const ddb = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: t.h.rt.endpoints.dynamodb, region: "us-east-1" }),
    );
    await ddb.send(
      new UpdateCommand({
        TableName: t.h.rt.tableName,
        Key: destinationKey(destinationId),
        UpdateExpression: "SET #s = :idle, wanted = :idle, updatedAt = :old",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":idle": "idle", ":old": "2026-01-01T00:00:00.000Z" },
      }),
    );

    // And a flow made by hand with castflow's tags, for a source that does not exist.
    const ghost = await sdk().mc.send(
      new CreateFlowCommand({
        Name: "castflow-source-ghost",
        Source: { Name: "encoder", Protocol: "srt-listener", IngestPort: 5000, WhitelistCidr: "10.0.0.0/16" },
      }),
    );
    const ghostArn = ghost.Flow?.FlowArn as string;
    await sdk().mc.send(
      new TagResourceCommand({
        ResourceArn: ghostArn,
        Tags: { "castflow:managed-by": "castflow", "castflow:stage": "dev", "castflow:source": "ghost" },
      }),
    );
    await sdk().mc.send(new StartFlowCommand({ FlowArn: ghostArn }));
    await eventually(async () => flowStatus(ghostArn) === "ACTIVE");

    await pastGrace(); // the source's record was written by the start a moment ago
    const dry = await reconcile(true);
    expect(about(dry, flowArn)).toEqual([
      expect.objectContaining({
        class: "idle-spend",
        reason: `MediaConnect flow castflow-source-${sourceId} of source ${sourceId} is ACTIVE (billed) but its users (${destinationId}) no longer need it`,
        repair: {
          action: "release-flow",
          sourceId,
          users: [destinationId],
          usersSince: { [destinationId]: expect.any(String) },
        },
      }),
    ]);
    expect(about(dry, ghostArn)).toEqual([
      expect.objectContaining({
        class: "orphan",
        reason:
          "MediaConnect flow castflow-source-ghost belongs to source ghost, which does not exist; it is ACTIVE (billed)",
        repair: { action: "stop-flow", flowArn: ghostArn },
      }),
    ]);

    await pastGrace();
    await reconcileUntil(async () => flowStatus(ghostArn) === "DELETED" && flowStatus(flowArn) === "STANDBY");
    const view = await t.api("GET", `/admin/sources/${sourceId}`, ADMIN);
    expect(view.body.flowUsers).toBe(0); // the source view counts them
    if (channelId) await eventually(async () => (await channelState(channelId)) === "IDLE");
    await pastGrace();
    const last = await reconcile();
    expect([...about(last, flowArn), ...about(last, ghostArn)]).toEqual([]);
  });
});
