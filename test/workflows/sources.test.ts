import { describe, expect, it } from "vitest";
import { useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime();
const ADMIN = { user: "ops", admin: true } as const;

async function createSource(body: Record<string, unknown>) {
  const res = await t.api("POST", "/admin/sources", { ...ADMIN, body });
  if (res.status !== 201) throw new Error(`source: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const status = async (sourceId: string) => (await t.api("GET", `/sources/${sourceId}/status`)).body;

/** Adds and starts a destination on the source, so its flow runs. */
async function runDestination(sourceId: string) {
  const add = await t.api("POST", "/destinations", {
    body: { name: "yt", platform: "youtube", sourceId, streamKey: "abcd-efgh-ijkl-mnop-qrst" },
  });
  expect((await t.waitFor(add.body.executionArn)).status).toBe("SUCCEEDED");
  const start = await t.api("POST", `/destinations/${add.body.destinationId}/start`);
  expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");
  return add.body.destinationId as string;
}

describe("sources registry", () => {
  it("creates an SRT listener source with a STANDBY flow and answers its ingest details", async () => {
    const src = await createSource({
      name: "studio",
      protocol: "srt-listener",
      port: 7000,
      allowedCidr: "198.51.100.0/24",
    });
    expect(src).toMatchObject({
      protocol: "srt-listener",
      deliveryMode: "per-destination",
      priority: 1,
      status: "ready",
      ingest: { protocol: "srt-listener", port: 7000, url: expect.stringMatching(/^srt:\/\/[\d.]+:7000$/) },
    });
    const flows = t.h.rt.simulator.resources().mediaconnect.flows;
    expect(flows).toEqual([expect.objectContaining({ flowArn: src.flow.flowArn, status: "STANDBY" })]);
    const list = await t.api("GET", "/admin/sources", ADMIN);
    expect(list.body.sources.map((s: { sourceId: string }) => s.sourceId)).toEqual([src.sourceId]);
    expect(await status(src.sourceId)).toMatchObject({ flowStatus: "STANDBY", health: null });
  });

  it("refuses bad input with the field named", async () => {
    for (const [body, field] of [
      [{ name: "x", protocol: "srt-listener", allowedCidr: "everywhere" }, "allowedCidr"],
      [{ name: "x", protocol: "srt-caller" }, "listenerAddress"],
      [{ name: "x", protocol: "ftp" }, "protocol"],
      [
        {
          name: "x",
          protocol: "rtp",
          encryption: {
            algorithm: "aes256",
            secretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:castflow/k",
          },
        },
        "encryption",
      ],
      [{ name: "x", protocol: "srt-listener", backupOf: "nope" }, "backupOf"],
    ] as const) {
      const res = await t.api("POST", "/admin/sources", { ...ADMIN, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details.fields[0].field).toBe(field);
    }
    expect((await t.api("POST", "/admin/sources", { body: { name: "x", protocol: "rtp" } })).status).toBe(
      403,
    );
  });

  it("fails over to a backup source, reports health, and follows the manual override", async () => {
    const primary = await createSource({ name: "main encoder", protocol: "srt-listener" });
    const backup = await createSource({
      name: "backup encoder",
      protocol: "srt-listener",
      backupOf: primary.sourceId,
      port: 5001,
    });
    expect(backup).toMatchObject({ backupOf: primary.sourceId, priority: 2 });
    expect(backup.flow.flowArn).toBe(primary.flow.flowArn);
    const flowArn = primary.flow.flowArn as string;
    const flow = () => t.h.rt.simulator.resources().mediaconnect.flows.find((f) => f.flowArn === flowArn);
    expect(flow()?.sources).toHaveLength(2);
    // Destinations go on the primary.
    const onBackup = await t.api("POST", "/destinations", {
      body: {
        name: "x",
        platform: "youtube",
        sourceId: backup.sourceId,
        streamKey: "abcd-efgh-ijkl-mnop-qrst",
      },
    });
    expect(onBackup.status).toBe(409);

    await runDestination(primary.sourceId);
    expect(await status(primary.sourceId)).toMatchObject({
      flowStatus: "ACTIVE",
      health: "HEALTHY",
      activeSource: "primary",
    });

    // The primary encoder stops: MediaConnect fails over, castflow reports it.
    const primaryName = `castflow-source-${primary.sourceId}-primary`;
    expect(
      (await t.sim("POST", "/_sim/sources", { flowArn, sourceName: primaryName, pushing: false })).status,
    ).toBe(200);
    expect(flow()?.activeSource).toBe(`castflow-source-${backup.sourceId}`);
    const degraded = await status(primary.sourceId);
    expect(degraded).toMatchObject({
      health: "DEGRADED",
      activeSource: "backup",
      activeSourceId: backup.sourceId,
    });
    expect((await t.sim("GET", "/_sim/ingest")).body.ingest[0]).toMatchObject({
      receiving: true,
      interruptions: 0,
    });

    // Both back; the operator prefers the backup (manual override), then both encoders stop.
    await t.sim("POST", "/_sim/sources", { flowArn, pushing: true });
    const override = await t.api("PUT", `/admin/sources/${primary.sourceId}`, {
      ...ADMIN,
      body: { activeSource: "backup" },
    });
    expect(override.status).toBe(200);
    expect(override.body.preferredSource).toBe("backup");
    expect(flow()?.activeSource).toBe(`castflow-source-${backup.sourceId}`);
    expect(await status(primary.sourceId)).toMatchObject({ health: "HEALTHY", activeSource: "backup" });
    await t.sim("POST", "/_sim/sources", { flowArn, pushing: false });
    expect(await status(primary.sourceId)).toMatchObject({ health: "FAILED" });

    // The primary cannot go before its backup; the backup leaves the flow, which stays.
    expect((await t.api("DELETE", `/admin/sources/${primary.sourceId}`, ADMIN)).status).toBe(409);
    expect((await t.api("DELETE", `/admin/sources/${backup.sourceId}`, ADMIN)).status).toBe(200);
    expect(
      (await t.api("GET", `/admin/sources/${primary.sourceId}`, ADMIN)).body.backupSourceId,
    ).toBeUndefined();
  });
});
