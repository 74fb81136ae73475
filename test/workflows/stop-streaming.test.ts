import { describe, expect, it } from "vitest";
import { useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime({ legacyProgramChannels: true });

describe("stop streaming on the local runtime", () => {
  it("stops the channel, waits for IDLE and marks the session idle, keeping channel and input", async () => {
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    const { stop, execution } = await t.stopStreaming(sessionId);
    expect(stop.body.executionName).toBe(`stop-streaming-${sessionId}-1`);
    expect(execution.status).toBe("SUCCEEDED");
    const path = await t.statePath(stop.body.executionArn);
    expect(path.slice(0, 6)).toEqual([
      "Claim Session For Stop",
      "Already Stopped?",
      "Take Channel Down",
      "Has Channel?",
      // The wait's first round stops the channel: registered before the stop, it sees its events.
      "Wait For Channel Stopped",
      "Stop Channel",
    ]);
    expect(path.slice(-2)).toEqual(["Mark Session Stopped", "Session Stopped"]);
    const session = await t.session(sessionId);
    expect(session.streaming).toMatchObject({ status: "idle", isLive: false });
    expect(Date.parse(session.streaming.stoppedAt)).toBeGreaterThan(Date.parse(session.streaming.startedAt));
    const { channels, inputs } = t.liveMediaLive();
    expect(channels).toEqual([expect.objectContaining({ id: session.mediaLive.channelId, state: "IDLE" })]);
    expect(inputs).toHaveLength(1);
    // The IVS program stream ended with the channel.
    const streams = t.h.rt.simulator.resources().ivs.streams;
    expect(
      streams.filter((s) => s.channelArn === session.ivs.programChannelArn && s.state === "LIVE"),
    ).toEqual([]);
  });

  it("is idempotent: stopping an idle session answers 200 and starts nothing", async () => {
    const sessionId = await t.createSession();
    const res = await t.api("POST", `/sessions/${sessionId}/streaming/stop`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sessionId, status: "idle" });
    expect(await t.calls("medialive", "StopChannel")).toBe(0);
  });

  it("gives concurrent stop requests one execution", async () => {
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => t.api("POST", `/sessions/${sessionId}/streaming/stop`)),
    );
    const arns = new Set(responses.filter((r) => r.status === 202).map((r) => r.body.executionArn));
    expect(arns.size).toBe(1);
    expect((await t.waitFor(String([...arns][0]))).status).toBe("SUCCEEDED");
    expect(await t.calls("medialive", "StopChannel")).toBe(1);
  });

  it("records a failed stop on the session instead of leaving it stopping, and a retry succeeds", async () => {
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    await t.fault({ service: "medialive", operation: "StopChannel", error: "ForbiddenException", times: 1 });
    const first = await t.stopStreaming(sessionId);
    expect(first.execution.status).toBe("FAILED");
    expect(first.execution.error).toBe("ForbiddenException");
    const failed = await t.session(sessionId);
    expect(failed.streaming).toMatchObject({ status: "error", error: { code: "ForbiddenException" } });
    // Stopping again from `error` is allowed and finishes the job under a new execution name.
    const second = await t.stopStreaming(sessionId);
    expect(second.stop.body.executionName).toBe(`stop-streaming-${sessionId}-2`);
    expect(second.execution.status).toBe("SUCCEEDED");
    expect((await t.session(sessionId)).streaming.status).toBe("idle");
  });
});
