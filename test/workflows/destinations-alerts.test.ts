import { randomUUID } from "node:crypto";
import { ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import { transformInput } from "#local/events/bus.ts";
import type { SimEvent } from "#local/simulator/events.ts";
import { eventually, useLocalRuntime } from "./harness.ts";

// Automatic failover: the simulator raises a MediaLive channel alert when a platform's ingest
// refuses a running channel's stream, publishes it to the local EventBridge, and the stack's
// destination-alert rule delivers it to react-to-channel-alert.
const t = useLocalRuntime();

const ADMIN = { user: "ops", admin: true } as const;
const YT_PRIMARY = "rtmp://a.rtmp.youtube.com/live2";
const YT_BACKUP = "rtmp://b.rtmp.youtube.com/live2?backup=1";

function ytKey(): string {
  const hex = randomUUID().replaceAll("-", "");
  return [0, 4, 8, 12, 16].map((i) => hex.slice(i, i + 4)).join("-");
}
const newHost = () => `host-${randomUUID().slice(0, 8)}`;

type IngestEntry = { url: string; streamName: string; receiving: boolean; interruptions: number };
const ingest = async () => (await t.sim("GET", "/_sim/ingest")).body.ingest as IngestEntry[];
const entryOf = async (key: string) => (await ingest()).find((e) => e.streamName === key);
const refuse = async (url: string, refused: boolean) =>
  expect((await t.sim("POST", "/_sim/ingest/refuse", { url, refuse: refused })).status).toBe(200);
const get = async (id: string, user: string) => (await t.api("GET", `/destinations/${id}`, { user })).body;
const metrics = async (id: string, user: string) =>
  (await t.api("GET", `/destinations/${id}/metrics`, { user })).body;

async function srtSource() {
  const res = await t.api("POST", "/admin/sources", {
    ...ADMIN,
    body: { name: "studio", protocol: "srt-listener" },
  });
  expect(res.status).toBe(201);
  return res.body.sourceId as string;
}

/** A per-destination YouTube destination with a backup URL and key, added and started. */
async function runningDestination(user: string, failoverEnabled: boolean) {
  const sourceId = await srtSource();
  const primaryKey = ytKey();
  const backupKey = ytKey();
  const add = await t.api("POST", "/destinations", {
    user,
    body: {
      name: "YouTube",
      platform: "youtube",
      sourceId,
      streamKey: primaryKey,
      backupStreamKey: backupKey,
      failoverEnabled,
    },
  });
  expect(add.status).toBe(202);
  const destinationId = add.body.destinationId as string;
  expect((await t.waitFor(add.body.executionArn)).status).toBe("SUCCEEDED");
  const start = await t.api("POST", `/destinations/${destinationId}/start`, { user });
  expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");
  return { destinationId, primaryKey, backupKey };
}

async function updatesOf(destinationId: string) {
  const stateMachineArn = t.h.rt.stateMachineArns["destination-update"];
  const res = await t.h.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
  return (res.executions ?? []).filter((e) => e.name?.includes(destinationId));
}

/** Records every event the simulator publishes while `fn` runs. */
async function capturing<T>(fn: (events: SimEvent[]) => Promise<T>): Promise<T> {
  const events: SimEvent[] = [];
  const off = t.h.rt.simulator.onEvent((e) => events.push(e));
  try {
    return await fn(events);
  } finally {
    off();
  }
}

describe("automatic failover (MediaLive channel alerts)", () => {
  it("fails a running destination over to its backup when the primary ingest refuses the stream", async () => {
    const user = newHost();
    const { destinationId, primaryKey, backupKey } = await runningDestination(user, true);
    await capturing(async (events) => {
      await refuse(YT_PRIMARY, true);
      const after = await eventually(async () => {
        const d = await get(destinationId, user);
        return d.status === "running" && d.activeUrl === "backup" ? d : undefined;
      }, 20_000);
      expect(after).toMatchObject({ activeUrl: "backup", status: "running" });
      expect(await entryOf(backupKey)).toMatchObject({ url: YT_BACKUP, receiving: true });
      expect(await entryOf(primaryKey)).toMatchObject({ url: YT_PRIMARY, receiving: false });
      expect(await metrics(destinationId, user)).toMatchObject({ failovers: 1, activeUrl: "backup" });
      const updates = await updatesOf(destinationId);
      expect(updates).toHaveLength(1);
      expect(updates[0]?.status).toBe("SUCCEEDED");

      // The alert event reached the reaction through the stack's rule. Its message names the
      // output's path, stream key included; the rule's input transformer leaves it out.
      const set = events.find((e) => e.detail.alarm_state === "SET");
      expect(String(set?.detail.message)).toContain(primaryKey);
      const rule = t.h.rt.events.rules.find((r) => r.name === "castflow-dev-destination-alert");
      const transformer = rule?.targets[0]?.inputTransformer;
      expect(transformer).toBeDefined();
      const received = transformInput(transformer as NonNullable<typeof transformer>, set);
      expect(received).toMatchObject({ alarmState: "SET", alarmId: set?.detail.alarm_id });
      expect(JSON.stringify(received)).not.toContain(primaryKey);
      await t.h.rt.events.idle();
      const delivered = t.h.rt.events.deliveries().filter((d) => d.eventId === set?.id);
      expect(delivered.map((d) => [d.rule, d.target, d.outcome])).toContainEqual([
        "castflow-dev-destination-alert",
        "react-to-channel-alert",
        "succeeded",
      ]);

      // A duplicate or late delivery of the same alert changes nothing: it has cleared meanwhile.
      t.h.rt.events.publish(set as SimEvent);
      t.h.rt.events.publish(set as SimEvent);
      await t.h.rt.events.idle();
      expect(await updatesOf(destinationId)).toHaveLength(1);
      expect(await metrics(destinationId, user)).toMatchObject({ failovers: 1 });
    });
    await refuse(YT_PRIMARY, false);
  });

  it("fails over a destination whose primary already refuses when it starts (retried until it runs)", async () => {
    const user = newHost();
    const sourceId = await srtSource();
    const add = await t.api("POST", "/destinations", {
      user,
      body: {
        name: "YouTube",
        platform: "youtube",
        sourceId,
        streamKey: ytKey(),
        backupStreamKey: ytKey(),
        failoverEnabled: true,
      },
    });
    const destinationId = add.body.destinationId as string;
    expect((await t.waitFor(add.body.executionArn)).status).toBe("SUCCEEDED");
    await refuse(YT_PRIMARY, true);
    const start = await t.api("POST", `/destinations/${destinationId}/start`, { user });
    expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");
    await eventually(async () => {
      const d = await get(destinationId, user);
      return d.status === "running" && d.activeUrl === "backup";
    }, 20_000);
    // The alert came while the record was still `starting`: the reaction threw DestinationBusy and
    // Lambda's asynchronous retry delivered it again once the destination ran. Nothing was dropped.
    await t.h.rt.events.idle();
    const attempts = t.h.rt.events.deliveries().filter((d) => d.target === "react-to-channel-alert");
    expect(attempts.some((d) => d.outcome === "succeeded")).toBe(true);
    expect(
      attempts.filter((d) => d.outcome !== "succeeded").map((d) => [d.outcome, d.error?.split(":")[0]]),
    ).toEqual(attempts.filter((d) => d.outcome === "failed").map(() => ["failed", "DestinationBusy"]));
    await refuse(YT_PRIMARY, false);
  });

  it("without failover: records the refusal as the last error, and counts the platform taking the stream back", async () => {
    const user = newHost();
    const { destinationId, primaryKey } = await runningDestination(user, false);
    await refuse(YT_PRIMARY, true);
    const refused = await eventually(async () => {
      const m = await metrics(destinationId, user);
      return m.lastError?.code === "IngestRefused" ? m : undefined;
    });
    expect(refused).toMatchObject({ activeUrl: "primary", failovers: 0, reconnects: 0 });
    expect(JSON.stringify(refused)).not.toContain(primaryKey);
    await refuse(YT_PRIMARY, false);
    await eventually(async () => (await metrics(destinationId, user)).reconnects === 1);
    await t.h.rt.events.idle();
    expect(await get(destinationId, user)).toMatchObject({ status: "running", activeUrl: "primary" });
    expect(await updatesOf(destinationId)).toHaveLength(0);
    expect(await entryOf(primaryKey)).toMatchObject({ receiving: true, interruptions: 1 });
  });

  it("shared channel: fails over the destination whose ingest refuses; the others restart with it, explicitly", async () => {
    const src = await t.api("POST", "/admin/sources", {
      ...ADMIN,
      body: { name: "studio-obs", protocol: "rtmp-push", allowedCidr: "198.51.100.0/24" },
    });
    expect(src.status).toBe(201);
    const { sourceId } = src.body as { sourceId: string };
    await t.sim("POST", "/_sim/sources", { inputId: src.body.shared.input.inputId, pushing: true });
    const user = newHost();
    const [mainKey, backupKey, otherKey] = [ytKey(), ytKey(), ytKey()];
    const main = await t.api("POST", "/destinations", {
      user,
      body: {
        name: "main",
        platform: "youtube",
        sourceId,
        streamKey: mainKey,
        backupStreamKey: backupKey,
        failoverEnabled: true,
      },
    });
    const other = await t.api("POST", "/destinations", {
      user,
      body: {
        name: "other",
        platform: "custom",
        sourceId,
        streamKey: otherKey,
        rtmpUrl: "rtmp://ingest.example.com/live",
      },
    });
    expect([main.status, other.status]).toEqual([201, 201]);
    const ids = [main.body.destinationId as string, other.body.destinationId as string];
    for (const id of ids)
      expect((await t.api("POST", `/destinations/${id}/start`, { user })).status).toBe(202);
    const running = async () => {
      const ds = await Promise.all(ids.map((id) => get(id, user)));
      return ds.every((d) => d.status === "running") ? ds : undefined;
    };
    await eventually(running, 20_000);

    await refuse(YT_PRIMARY, true);
    await eventually(async () => {
      const ds = await running();
      return ds?.[0]?.activeUrl === "backup" ? ds : undefined;
    }, 20_000);
    expect(await entryOf(backupKey)).toMatchObject({ url: YT_BACKUP, receiving: true });
    // The shared channel restarted for the change: the other destination was interrupted once.
    expect(await entryOf(otherKey)).toMatchObject({ receiving: true, interruptions: 1 });
    expect(await get(ids[1] as string, user)).toMatchObject({ activeUrl: "primary" });
    expect(await metrics(ids[0] as string, user)).toMatchObject({ failovers: 1 });
    await refuse(YT_PRIMARY, false);
  });
});
