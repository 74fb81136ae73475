import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import { sharedChannelApply } from "#state-machines/destinations/shared-channel-apply/lifecycle.ts";
import { executionName } from "#state-machines/workflow/lifecycle.ts";
import { eventually, useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime();

const ADMIN = { user: "ops", admin: true } as const;
const YT_KEY_A = "abcd-efgh-ijkl-mnop-qrst";
const YT_KEY_B = "wxyz-1234-5678-9abc-defg";
const TRANSITIONAL = ["creating", "starting", "restarting", "stopping", "updating", "deleting"];

type IngestEntry = { url: string; streamName: string; receiving: boolean; interruptions: number };

async function rtmpSource() {
  const res = await t.api("POST", "/admin/sources", {
    ...ADMIN,
    body: { name: "studio-obs", protocol: "rtmp-push", allowedCidr: "198.51.100.0/24" },
  });
  if (res.status !== 201) throw new Error(`source: ${res.status} ${JSON.stringify(res.body)}`);
  const inputId = res.body.shared.input.inputId as string;
  // The encoder (OBS) pushes to the source's input.
  expect((await t.sim("POST", "/_sim/sources", { inputId, pushing: true })).status).toBe(200);
  return { sourceId: res.body.sourceId as string, inputId, body: res.body };
}

async function add(sourceId: string, name: string, streamKey: string) {
  const res = await t.api("POST", "/destinations", {
    body: { name, platform: "youtube", sourceId, streamKey },
  });
  if (res.status !== 201) throw new Error(`add: ${res.status} ${JSON.stringify(res.body)}`);
  expect(res.body).toMatchObject({ status: "idle", deliveryMode: "shared", streamKeySet: true });
  return res.body.destinationId as string;
}

async function act(destinationId: string, action: "start" | "stop") {
  const res = await t.api("POST", `/destinations/${destinationId}/${action}`);
  if (res.status !== 202) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

async function remove(destinationId: string) {
  const res = await t.api("DELETE", `/destinations/${destinationId}`);
  if (res.status !== 202) throw new Error(`delete: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

const status = async (id: string) => (await t.api("GET", `/destinations/${id}`)).body;

/** Waits until the source's shared channel is settled: no apply holds it and every destination is settled. */
async function settled(sourceId: string) {
  await eventually(async () => {
    const source = (await t.api("GET", `/admin/sources/${sourceId}`, ADMIN)).body;
    const ds = (await t.api("GET", `/destinations?sourceId=${sourceId}&includeDeleted=true`, ADMIN)).body
      .destinations as { status: string }[];
    return !source.shared?.apply && ds.every((d) => !TRANSITIONAL.includes(d.status));
  }, 20_000);
}

async function ingest(): Promise<IngestEntry[]> {
  return (await t.sim("GET", "/_sim/ingest")).body.ingest;
}
const entryOf = async (key: string) => (await ingest()).find((e) => e.streamName === key);

const channels = () => t.liveMediaLive().channels;

describe("restream destinations, shared-channel mode", () => {
  it("an rtmp-push source: auto-start, explicit restarts, auto-stop, and nothing left after the deletes", async () => {
    const src = await rtmpSource();
    expect(src.body).toMatchObject({ protocol: "rtmp-push", deliveryMode: "shared" });
    expect(src.body.ingest.url).toMatch(new RegExp(`^rtmp://[0-9.]+:1935/castflow/${src.sourceId}$`));
    expect(src.body.ingest.servers).toEqual([
      { server: expect.stringMatching(/^rtmp:\/\/[0-9.]+:1935\/castflow$/), streamKey: src.sourceId },
    ]);
    const account = t.h.rt.simulator.resources();
    const input = account.medialive.inputs.find((i) => i.id === src.inputId);
    expect(input).toMatchObject({
      type: "RTMP_PUSH",
      inputClass: "SINGLE_INPUT",
      tags: { "castflow:managed-by": "castflow", "castflow:source": src.sourceId },
    });
    const group = account.medialive.inputSecurityGroups.find((g) =>
      ((input?.securityGroups ?? []) as string[]).includes(String(g.id)),
    );
    expect(group).toMatchObject({
      whitelistRules: [{ cidr: "198.51.100.0/24" }],
      tags: { "castflow:managed-by": "castflow", "castflow:source": src.sourceId },
    });

    const a = await add(src.sourceId, "YouTube main", YT_KEY_A);
    const b = await add(src.sourceId, "YouTube second", YT_KEY_B);
    expect(channels()).toEqual([]); // nothing to run yet

    // The first start creates and starts the shared channel: nobody to interrupt.
    const startA = await act(a, "start");
    expect(startA.body).toMatchObject({ status: "starting", interrupts: [] });
    expect((await t.waitFor(startA.body.executionArn)).status).toBe("SUCCEEDED");
    await settled(src.sourceId);
    expect(await status(a)).toMatchObject({ status: "running", wanted: "running" });
    expect(channels()).toEqual([expect.objectContaining({ state: "RUNNING" })]);
    expect(await entryOf(YT_KEY_A)).toMatchObject({ receiving: true, interruptions: 0 });

    // The second start restarts the channel: the answer names the first, whose status says so.
    const startB = await act(b, "start");
    expect(startB.body).toMatchObject({ status: "starting", interrupts: [a] });
    expect((await status(a)).status).toBe("restarting");
    expect((await t.waitFor(startB.body.executionArn)).status).toBe("SUCCEEDED");
    await settled(src.sourceId);
    expect(await status(a)).toMatchObject({ status: "running" });
    expect(await status(b)).toMatchObject({ status: "running" });
    expect(channels()).toHaveLength(1);
    expect(await entryOf(YT_KEY_A)).toMatchObject({ receiving: true, interruptions: 1 });
    expect(await entryOf(YT_KEY_B)).toMatchObject({ receiving: true, interruptions: 0 });

    // Stopping one restarts the channel for the other, explicitly.
    const stopB = await act(b, "stop");
    expect(stopB.body).toMatchObject({ status: "stopping", interrupts: [a] });
    expect((await status(a)).status).toBe("restarting");
    await t.waitFor(stopB.body.executionArn);
    await settled(src.sourceId);
    expect(await status(b)).toMatchObject({ status: "idle" });
    expect(await status(a)).toMatchObject({ status: "running" });
    expect(await entryOf(YT_KEY_A)).toMatchObject({ receiving: true, interruptions: 2 });
    expect(await entryOf(YT_KEY_B)).toMatchObject({ receiving: false });

    // The last one out stops the channel (auto-stop); the channel stays for the next start.
    const stopA = await act(a, "stop");
    expect(stopA.body).toMatchObject({ status: "stopping", interrupts: [] });
    await t.waitFor(stopA.body.executionArn);
    await settled(src.sourceId);
    expect(await status(a)).toMatchObject({ status: "idle" });
    expect(channels()).toEqual([expect.objectContaining({ state: "IDLE" })]);
    expect(await entryOf(YT_KEY_A)).toMatchObject({ receiving: false });

    // No key in any answer or execution history.
    for (const arn of [startA.body.executionArn, startB.body.executionArn, stopB.body.executionArn]) {
      const history = JSON.stringify(await t.history(arn));
      expect(history).not.toContain(YT_KEY_A);
      expect(history).not.toContain(YT_KEY_B);
    }
    expect(JSON.stringify(await status(a))).not.toContain(YT_KEY_A);

    // Deleting both takes the channel with the last one; the source keeps only its input.
    const delA = await remove(a);
    const delB = await remove(b);
    await t.waitFor(delA.body.executionArn);
    await t.waitFor(delB.body.executionArn);
    await settled(src.sourceId);
    expect(await status(a)).toMatchObject({ status: "deleted" });
    expect(await status(b)).toMatchObject({ status: "deleted" });
    const left = t.liveMediaLive();
    expect(left.channels).toEqual([]);
    expect(left.inputs.map((i) => i.id)).toEqual([src.inputId]);
    const params = t.h.rt.simulator.resources().ssm.parameters.map((p) => String(p.name));
    expect(params.filter((p) => p.includes(a) || p.includes(b))).toEqual([]);

    // Deleting the source deletes its input and its security group: nothing left.
    const del = await t.api("DELETE", `/admin/sources/${src.sourceId}`, ADMIN);
    expect(del.status).toBe(200);
    expect(t.liveMediaLive().inputs).toEqual([]);
    expect(
      t.h.rt.simulator.resources().medialive.inputSecurityGroups.filter((g) => g.state !== "DELETED"),
    ).toEqual([]);
    expect((await t.api("GET", `/admin/sources/${src.sourceId}`, ADMIN)).status).toBe(404);
  });

  it("refuses to delete an rtmp-push source while destinations use it", async () => {
    const src = await rtmpSource();
    const a = await add(src.sourceId, "YouTube main", YT_KEY_A);
    const del = await t.api("DELETE", `/admin/sources/${src.sourceId}`, ADMIN);
    expect(del.status).toBe(409);
    expect(del.body.error.details.destinations).toEqual([{ destinationId: a, status: "idle" }]);
  });

  it("serializes concurrent starts through one apply: both end running, no request lost", async () => {
    const src = await rtmpSource();
    const a = await add(src.sourceId, "YouTube main", YT_KEY_A);
    const b = await add(src.sourceId, "YouTube second", YT_KEY_B);
    const [ra, rb] = await Promise.all([act(a, "start"), act(b, "start")]);
    for (const arn of new Set([ra.body.executionArn, rb.body.executionArn]))
      expect((await t.waitFor(arn)).status).toBe("SUCCEEDED");
    await settled(src.sourceId);
    expect(await status(a)).toMatchObject({ status: "running" });
    expect(await status(b)).toMatchObject({ status: "running" });
    expect(channels()).toEqual([expect.objectContaining({ state: "RUNNING" })]);
    expect(await entryOf(YT_KEY_A)).toMatchObject({ receiving: true });
    expect(await entryOf(YT_KEY_B)).toMatchObject({ receiving: true });

    // And two stops at once: the channel stops once both are out.
    const [sa, sb] = await Promise.all([act(a, "stop"), act(b, "stop")]);
    for (const arn of new Set([sa.body.executionArn, sb.body.executionArn])) await t.waitFor(arn);
    await settled(src.sourceId);
    expect((await status(a)).status).toBe("idle");
    expect((await status(b)).status).toBe("idle");
    expect(channels()).toEqual([expect.objectContaining({ state: "IDLE" })]);
  });

  it("a start that arrives while an apply runs joins it: the apply plans again, nothing is lost", async () => {
    const src = await rtmpSource();
    const a = await add(src.sourceId, "YouTube main", YT_KEY_A);
    const b = await add(src.sourceId, "YouTube second", YT_KEY_B);
    const startA = await act(a, "start");
    await eventually(async () => channels().some((c) => c.state === "STARTING"));
    const startB = await act(b, "start");
    // a is on its way to the channel: the restart b causes is announced for it too.
    expect(startB.body).toMatchObject({ interrupts: [a], executionArn: startA.body.executionArn });
    expect((await t.waitFor(startA.body.executionArn)).status).toBe("SUCCEEDED");
    await settled(src.sourceId);
    const path = await t.statePath(startA.body.executionArn);
    expect(path.filter((s) => s === "Plan Changes")).toHaveLength(2);
    expect(await status(a)).toMatchObject({ status: "running" });
    expect(await status(b)).toMatchObject({ status: "running" });
    expect(await entryOf(YT_KEY_B)).toMatchObject({ receiving: true, interruptions: 0 });
  });

  it("an apply that finds the channel held ends only once its change is applied, however long the holder takes", async () => {
    // Prepare: a running on the channel; b's start restarts it, and the holder's StopChannel
    // answers late (real time, past what waiting half an hour of AWS time is at this time scale).
    const src = await rtmpSource();
    const a = await add(src.sourceId, "YouTube main", YT_KEY_A);
    const b = await add(src.sourceId, "YouTube second", YT_KEY_B);
    expect((await t.waitFor((await act(a, "start")).body.executionArn)).status).toBe("SUCCEEDED");
    await settled(src.sourceId);
    await t.fault({ service: "medialive", operation: "StopChannel", delayMs: 6_000, times: 1 });
    const holder = await act(b, "start");
    await eventually(async () => (await t.statePath(holder.body.executionArn)).includes("Plan Changes"));

    // Act: a second apply of the source, as a request racing b's would have started it.
    const holderName = holder.body.executionName as string;
    const n = Number(holderName.slice(holderName.lastIndexOf("-") + 1)) + 1;
    const racer = await t.h.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: t.h.rt.stateMachineArns["shared-channel-apply"],
        name: executionName(sharedChannelApply, src.sourceId, n),
        input: JSON.stringify({ sourceId: src.sourceId, attempt: n }),
      }),
    );
    const done = await t.waitFor(racer.executionArn as string);

    // Assess: it waited for the holder, claimed after it and found nothing left to do.
    expect(done.status).toBe("SUCCEEDED");
    const busy = (await t.history(racer.executionArn as string)).filter(
      (e) => e.lambdaFunctionFailedEventDetails?.error === "SharedChannelBusy",
    );
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(await status(b)).toMatchObject({ status: "running" });
    const path = await t.statePath(racer.executionArn as string);
    expect(path).toContain("Plan Changes");
    expect(path).not.toContain("Another Apply Holds The Channel");
    expect(path).not.toContain("Write Channel Outputs");
    expect((await t.waitFor(holder.body.executionArn)).status).toBe("SUCCEEDED");
  });

  it("a failed channel update ends in error, leaves no channel running for nobody, nothing transitional", async () => {
    const src = await rtmpSource();
    const a = await add(src.sourceId, "YouTube main", YT_KEY_A);
    const b = await add(src.sourceId, "YouTube second", YT_KEY_B);
    const startA = await act(a, "start");
    await t.waitFor(startA.body.executionArn);
    await settled(src.sourceId);
    await t.fault({
      service: "medialive",
      operation: "UpdateChannel",
      error: "UnprocessableEntityException",
    });
    const startB = await act(b, "start");
    expect(startB.body.interrupts).toEqual([a]);
    const execution = await t.waitFor(startB.body.executionArn);
    expect(execution.status).toBe("FAILED");
    await settled(src.sourceId);
    const [da, db] = [await status(a), await status(b)];
    expect(da).toMatchObject({ status: "error", error: { code: "UnprocessableEntityException" } });
    expect(db).toMatchObject({ status: "error", error: { code: "UnprocessableEntityException" } });
    expect(channels().filter((c) => c.state === "RUNNING")).toEqual([]);
    expect((await entryOf(YT_KEY_A))?.receiving).toBe(false);
    const path = await t.statePath(startB.body.executionArn);
    expect(path).toContain("Plan Clean Up");
    expect(path).toContain("Record Failure");

    // Asking again works once the fault is gone.
    const again = await act(a, "start");
    await t.waitFor(again.body.executionArn);
    await settled(src.sourceId);
    expect(await status(a)).toMatchObject({ status: "running" });
    expect((await status(a)).error).toBeUndefined();
  });

  it("a shared SRT source: the flow is started for the shared channel and stopped after it", async () => {
    const created = await t.api("POST", "/admin/sources", {
      ...ADMIN,
      body: { name: "studio-srt", protocol: "srt-listener", deliveryMode: "shared" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ deliveryMode: "shared", ingest: { protocol: "srt-listener" } });
    const sourceId = created.body.sourceId as string;
    const flowArn = created.body.flow.flowArn as string;
    const flow = () => t.h.rt.simulator.resources().mediaconnect.flows.find((f) => f.flowArn === flowArn);
    expect(flow()).toMatchObject({ status: "STANDBY" });

    const a = await add(sourceId, "YouTube main", YT_KEY_A);
    const start = await act(a, "start");
    expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");
    await settled(sourceId);
    expect(await status(a)).toMatchObject({ status: "running" });
    expect(flow()).toMatchObject({ status: "ACTIVE" });
    const input = t.liveMediaLive().inputs.find((i) => i.type === "MEDIACONNECT");
    expect(input).toMatchObject({ tags: expect.objectContaining({ "castflow:source": sourceId }) });
    expect(flow()?.outputs).toHaveLength(1);
    expect(await entryOf(YT_KEY_A)).toMatchObject({ receiving: true });

    const stop = await act(a, "stop");
    await t.waitFor(stop.body.executionArn);
    await settled(sourceId);
    expect(await status(a)).toMatchObject({ status: "idle" });
    expect(["STOPPING", "STANDBY"]).toContain(flow()?.status);
    expect(channels()).toEqual([expect.objectContaining({ state: "IDLE" })]);

    const del = await remove(a);
    await t.waitFor(del.body.executionArn);
    await settled(sourceId);
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    expect(flow()?.outputs).toEqual([]);
    await eventually(async () => flow()?.status === "STANDBY");
    const delSource = await t.api("DELETE", `/admin/sources/${sourceId}`, ADMIN);
    expect(delSource.status).toBe(200);
  });
});
