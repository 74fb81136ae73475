import { describe, expect, it } from "vitest";
import { eventually, useLocalRuntime } from "./harness.ts";

// Channels stay CREATING until a test moves them on, so it can fail their creation.
const t = useLocalRuntime({ legacyProgramChannels: true, simulatorDurations: { channelCreate: 36_000 } });

const creatingChannel = (except: string[] = []) =>
  eventually(async () =>
    t.h.rt.simulator
      .resources()
      .medialive.channels.find((c) => c.state === "CREATING" && !except.includes(String(c.id))),
  );

describe("go-live with a channel MediaLive fails to create", () => {
  it("compensates CREATE_FAILED: deletes the failed channel and the input, records ChannelFailed", async () => {
    const sessionId = await t.createSession();
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const channel = await creatingChannel();
    await t.sim("POST", "/_sim/medialive/channel-state", { channelId: channel.id, state: "CREATE_FAILED" });
    const execution = await t.waitFor(start.body.executionArn);

    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("ChannelFailed");
    expect(execution.cause).toContain("CREATE_FAILED");
    const path = await t.statePath(start.body.executionArn);
    expect(path).toEqual(
      expect.arrayContaining(["Wait For Channel Ready: Failed", "Delete Created Channel"]),
    );
    expect((await t.session(sessionId)).streaming.error.code).toBe("ChannelFailed");
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
  });

  it("replaces a failed channel it finds on the session instead of reusing it", async () => {
    const sessionId = await t.createSession();
    const first = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const failed = await creatingChannel();
    // The first execution dies while the channel is being created; MediaLive then fails it.
    await eventually(async () => (await t.session(sessionId)).mediaLive.channelId);
    await t.abort(first.body.executionArn);
    await t.sim("POST", "/_sim/medialive/channel-state", { channelId: failed.id, state: "CREATE_FAILED" });

    const second = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const replacement = await creatingChannel([String(failed.id)]);
    await t.sim("POST", "/_sim/advance", { resourceId: replacement.id });
    expect((await t.waitFor(second.body.executionArn)).status).toBe("SUCCEEDED");

    const session = await t.session(sessionId);
    expect(session.mediaLive.channelId).toBe(replacement.id);
    expect(t.liveMediaLive().channels.map((c) => c.id)).toEqual([replacement.id]);
  });
});
