import { describe, expect, it } from "vitest";
import { useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime();

const ADMIN = { user: "ops", admin: true } as const;
const YT_KEY_A = "abcd-efgh-ijkl-mnop-qrst";
const YT_KEY_B = "wxyz-1234-5678-9abc-defg";

async function source(name = "studio-srt") {
  const res = await t.api("POST", "/admin/sources", { ...ADMIN, body: { name, protocol: "srt-listener" } });
  expect(res.status).toBe(201);
  return res.body as { sourceId: string; flow: { flowArn: string } };
}

async function addDestination(sourceId: string, body: Record<string, unknown> = {}, user = "host-1") {
  const res = await t.api("POST", "/destinations", {
    user,
    body: { name: "YouTube main", platform: "youtube", sourceId, streamKey: YT_KEY_A, ...body },
  });
  if (res.status !== 202) throw new Error(`add: ${res.status} ${JSON.stringify(res.body)}`);
  const execution = await t.waitFor(res.body.executionArn);
  return { res, execution, destinationId: res.body.destinationId as string };
}

async function lifecycle(destinationId: string, action: "start" | "stop", user = "host-1") {
  const res = await t.api("POST", `/destinations/${destinationId}/${action}`, { user });
  if (res.status !== 202) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
  return { res, execution: await t.waitFor(res.body.executionArn) };
}

async function ingest() {
  return (await t.sim("GET", "/_sim/ingest")).body.ingest as {
    url: string;
    streamName: string;
    receiving: boolean;
    interruptions: number;
  }[];
}

const flowOf = (flowArn: string) =>
  t.h.rt.simulator.resources().mediaconnect.flows.find((f) => f.flowArn === flowArn);

describe("restream destinations, per-destination mode", () => {
  it("adds, starts, stops and deletes a destination, with the flow started for it and stopped after it", async () => {
    const src = await source();
    expect(flowOf(src.flow.flowArn)).toMatchObject({ status: "STANDBY" });
    const { res, execution, destinationId } = await addDestination(src.sourceId);
    expect(res.body).toMatchObject({ status: "creating", streamKeySet: true, platform: "youtube" });
    expect(JSON.stringify(res.body)).not.toContain(YT_KEY_A);
    expect(execution.status).toBe("SUCCEEDED");
    const added = (await t.api("GET", `/destinations/${destinationId}`)).body;
    expect(added).toMatchObject({
      status: "idle",
      activeUrl: "primary",
      rtmpUrl: "rtmp://a.rtmp.youtube.com/live2",
    });
    expect(added.mediaLive.channelId).toEqual(expect.any(String));
    expect(added.flowOutputArn).toEqual(expect.any(String));

    const started = await lifecycle(destinationId, "start");
    expect(started.execution.status).toBe("SUCCEEDED");
    expect((await t.api("GET", `/destinations/${destinationId}`)).body.status).toBe("running");
    expect(flowOf(src.flow.flowArn)).toMatchObject({ status: "ACTIVE" });
    expect(await ingest()).toEqual([
      expect.objectContaining({
        url: "rtmp://a.rtmp.youtube.com/live2",
        streamName: YT_KEY_A,
        receiving: true,
      }),
    ]);

    const stopped = await lifecycle(destinationId, "stop");
    expect(stopped.execution.status).toBe("SUCCEEDED");
    expect((await t.api("GET", `/destinations/${destinationId}`)).body.status).toBe("idle");
    expect(["STOPPING", "STANDBY"]).toContain(flowOf(src.flow.flowArn)?.status);

    const del = await t.api("DELETE", `/destinations/${destinationId}`);
    expect(del.status).toBe(202);
    expect((await t.waitFor(del.body.executionArn)).status).toBe("SUCCEEDED");
    expect((await t.api("GET", `/destinations/${destinationId}`)).body.status).toBe("deleted");
    const { channels, inputs } = t.liveMediaLive();
    expect(channels).toEqual([]);
    expect(inputs).toEqual([]);
    expect(flowOf(src.flow.flowArn)?.outputs).toEqual([]);
    const params = t.h.rt.simulator.resources().ssm.parameters.map((p) => String(p.Name));
    expect(params.filter((p) => p.includes(destinationId))).toEqual([]);
  });

  it("starts and stops one destination without interrupting another on the same source", async () => {
    const src = await source();
    const a = await addDestination(src.sourceId);
    const b = await addDestination(src.sourceId, { name: "YouTube second", streamKey: YT_KEY_B });
    await lifecycle(a.destinationId, "start");
    await lifecycle(b.destinationId, "start");
    await lifecycle(b.destinationId, "stop");
    const entries = await ingest();
    const first = entries.find((e) => e.streamName === YT_KEY_A);
    const second = entries.find((e) => e.streamName === YT_KEY_B);
    expect(first).toMatchObject({ receiving: true, interruptions: 0 });
    expect(second).toMatchObject({ receiving: false });
    // The flow stays up while A uses it.
    expect(flowOf(src.flow.flowArn)).toMatchObject({ status: "ACTIVE" });
  });
});
