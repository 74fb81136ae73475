import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventually, useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime({ legacyProgramChannels: true });
const newHost = () => `host-${randomUUID().slice(0, 8)}`;
const relays = () =>
  t.h.rt.simulator.resources().ivs.channels.filter((c) => String(c.name).startsWith("castflow-relay-"));

/** A host with a persistent channel, a session on it, live. */
async function liveSession() {
  const host = newHost();
  const channel = await t.persistentChannel(host);
  const sessionId = await t.createSession(host);
  expect((await t.goLive(sessionId, host)).execution.status).toBe("SUCCEEDED");
  return { host, channel, sessionId, session: await t.session(sessionId, host) };
}

describe("end-session on the local runtime", () => {
  it("ends a live session: stops and deletes MediaLive, deletes the relay, hands the channel back", async () => {
    const { host, channel, sessionId, session } = await liveSession();
    const { end, execution } = await t.endSession(sessionId, host);
    expect(end.body.executionName).toBe(`end-session-${sessionId}-1`);
    expect(execution.status).toBe("SUCCEEDED");
    expect(await t.statePath(end.body.executionArn)).toEqual(
      expect.arrayContaining([
        "Claim Session For End",
        "Release Session Resources",
        // Stop and delete are the first rounds of their waits; the channel's DELETED event, not
        // a wait for the input to detach, comes before the input is deleted.
        "Wait For Channel Stopped",
        "Stop Channel",
        "Wait For Channel Deleted",
        "Delete Channel",
        "Wait For Channel Deleted: Check State",
        "Delete Input",
        "Delete Relay Channel",
        "Release Persistent Channel",
        "Record Session Ended",
        "Session Ended",
      ]),
    );
    const ended = await t.session(sessionId, host);
    expect(ended.status).toBe("ended");
    expect(ended.streaming).toMatchObject({ status: "idle", isLive: false });
    const ok = { attempted: true, success: true, error: null };
    expect(ended.end.cleanupResults).toEqual({ mediaLive: ok, relayChannel: ok, persistentChannel: ok });
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    expect(t.ivsChannelArns()).not.toContain(session.ivs.relayChannelArn);
    expect(t.ivsChannelArns()).toContain(channel.channelArn);
    expect(await t.channel(channel.channelId)).toMatchObject({ state: "IDLE", totalBroadcasts: 1 });
    // The session is over: it cannot go live again.
    expect((await t.api("POST", `/sessions/${sessionId}/streaming/start`, { user: host })).status).toBe(409);
  });

  it("is a no-op on an ended session", async () => {
    const { host, sessionId } = await liveSession();
    await t.endSession(sessionId, host);
    const callsBefore = (await t.sim("GET", "/_sim/calls")).body.count;
    const again = await t.api("DELETE", `/sessions/${sessionId}`, { user: host });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ sessionId, status: "ended" });
    expect((await t.sim("GET", "/_sim/calls")).body.count).toBe(callsBefore);
  });

  it("ends a legacy session by deleting its own program channel", async () => {
    const sessionId = await t.createSession("legacy-host");
    const session = await t.session(sessionId, "legacy-host");
    expect(session.ivs.programChannelArn).toEqual(expect.any(String));
    const { execution } = await t.endSession(sessionId, "legacy-host");
    expect(execution.status).toBe("SUCCEEDED");
    const ended = await t.session(sessionId, "legacy-host");
    expect(ended.end.cleanupResults).toMatchObject({
      programChannel: { attempted: true, success: true },
      mediaLive: { attempted: false, success: true },
      relayChannel: { attempted: false, success: true },
    });
    expect(t.ivsChannelArns()).not.toContain(session.ivs.programChannelArn);
  });

  it("stops a stream still live on the relay before deleting it, and retries a 409 on delete", async () => {
    const { host, sessionId, session } = await liveSession();
    const relayArn = session.ivs.relayChannelArn;
    const live = await t.sim("POST", "/_sim/ivs/streams", { channelArn: relayArn, live: true });
    expect(live.status).toBe(200);
    await t.fault({ service: "ivs", operation: "DeleteChannel", error: "ConflictException", times: 1 });
    const { end, execution } = await t.endSession(sessionId, host);
    expect(execution.status).toBe("SUCCEEDED");
    const busy = (await t.history(end.body.executionArn)).filter(
      (e) =>
        e.type === "LambdaFunctionFailed" && e.lambdaFunctionFailedEventDetails?.error === "IvsChannelBusy",
    );
    expect(busy).toHaveLength(1);
    expect(await t.calls("ivs", "StopStream")).toBe(1);
    expect(await t.calls("ivs", "DeleteStreamKey")).toBeGreaterThanOrEqual(1);
    expect(relays()).toEqual([]);
  });

  it("records a part that fails, still runs the others, fails the execution, and a second end finishes", async () => {
    const { host, channel, sessionId } = await liveSession();
    await t.fault({ service: "ivs", operation: "DeleteChannel", error: "AccessDeniedException", times: 1 });
    const first = await t.endSession(sessionId, host);
    expect(first.execution.status).toBe("FAILED");
    expect(first.execution.error).toBe("SessionEndIncomplete");
    expect(first.execution.cause).toContain("relayChannel");
    const partial = await t.session(sessionId, host);
    expect(partial.status).toBe("ended");
    expect(partial.end.cleanupResults.relayChannel).toMatchObject({
      attempted: true,
      success: false,
      error: { code: "AccessDeniedException" },
    });
    expect(partial.end.cleanupResults.mediaLive.success).toBe(true);
    expect(partial.end.cleanupResults.persistentChannel.success).toBe(true);
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    expect(await t.channel(channel.channelId)).toMatchObject({ state: "IDLE", totalBroadcasts: 1 });

    const second = await t.endSession(sessionId, host);
    expect(second.end.body.executionName).toBe(`end-session-${sessionId}-2`);
    expect(second.execution.status).toBe("SUCCEEDED");
    expect((await t.session(sessionId, host)).end.cleanupResults.relayChannel.success).toBe(true);
    expect(relays()).toEqual([]);
    // Statistics were added once, although the persistent part ran twice.
    expect(await t.channel(channel.channelId)).toMatchObject({ state: "IDLE", totalBroadcasts: 1 });
  });

  it("counts the statistics once when an end crashes, then fails part-way, and is run again", async () => {
    const { host, channel, sessionId } = await liveSession();
    // 1. The first end dies mid-way (its MediaLive part held, then the execution is stopped).
    await t.fault({ service: "medialive", operation: "StopChannel", delayMs: 2000, times: 1 });
    const first = await t.api("DELETE", `/sessions/${sessionId}`, { user: host });
    await eventually(async () => (await t.calls("medialive", "StopChannel")) === 1);
    await t.abort(first.body.executionArn);
    expect((await t.waitFor(first.body.executionArn)).status).toBe("ABORTED");
    expect((await t.session(sessionId, host)).status).toBe("ending");

    // 2. The second end records the statistics but its MediaLive part fails: the claim is kept.
    await t.fault({
      service: "medialive",
      operation: "DeleteChannel",
      error: "ForbiddenException",
      times: 1,
    });
    const second = await t.endSession(sessionId, host);
    expect(second.execution.status).toBe("FAILED");
    const counted = await t.channel(channel.channelId);
    expect(counted).toMatchObject({ state: "LIVE", totalBroadcasts: 1 });

    // 3. The third end finishes MediaLive and releases the channel without counting again.
    const third = await t.endSession(sessionId, host);
    expect(third.execution.status).toBe("SUCCEEDED");
    expect((await t.session(sessionId, host)).status).toBe("ended");
    expect(await t.channel(channel.channelId)).toMatchObject({
      state: "IDLE",
      totalBroadcasts: 1,
      totalStreamingMinutes: counted.totalStreamingMinutes,
    });
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    expect(relays()).toEqual([]);
  });

  it("waits for a go-live under way to settle, then ends the session", async () => {
    const host = newHost();
    await t.persistentChannel(host);
    const sessionId = await t.createSession(host);
    await t.fault({ service: "medialive", operation: "DescribeChannel", delayMs: 600, times: 1 });
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`, { user: host });
    const { end, execution } = await t.endSession(sessionId, host);
    expect(execution.status).toBe("SUCCEEDED");
    expect((await t.waitFor(start.body.executionArn)).status).toBe("SUCCEEDED");
    const waited = (await t.history(end.body.executionArn)).filter(
      (e) => e.type === "LambdaFunctionFailed" && e.lambdaFunctionFailedEventDetails?.error === "SessionBusy",
    );
    expect(waited.length).toBeGreaterThan(0);
    expect((await t.session(sessionId, host)).status).toBe("ended");
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    expect(relays()).toEqual([]);
  });
});
