import { describe, expect, it } from "vitest";
import { eventually, useLocalRuntime } from "./harness.ts";

// A channel that would take 10 hours to start: far beyond go-live's 12.5-minute budget.
const t = useLocalRuntime({ legacyProgramChannels: true, simulatorDurations: { channelStart: 36_000 } });

describe("go-live when the channel does not start in time", () => {
  it("times out, stops the late channel once it can, deletes what it created and records the timeout", async () => {
    const sessionId = await t.createSession();
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const arn = start.body.executionArn as string;

    // MediaLive refuses to stop a STARTING channel, so the compensation's stop (the first round
    // of its wait for the channel stopped, a callback task) is retried (ChannelNotReady) ...
    await eventually(async () =>
      (await t.history(arn)).some(
        (e) => e.type === "TaskFailed" && e.taskFailedEventDetails?.error === "ChannelNotReady",
      ),
    );
    // ... until the channel finally reaches RUNNING, which the test brings forward.
    const { channelId } = (await t.session(sessionId)).mediaLive;
    expect((await t.sim("POST", "/_sim/advance", { resourceId: channelId })).body.advanced).toBe(1);
    const execution = await t.waitFor(arn);

    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("ChannelWaitTimeout");
    expect(execution.cause).toMatch(/did not reach RUNNING within 750 s/);
    const path = await t.statePath(arn);
    expect(path).toContain("Wait For Channel Running: Timed Out");
    expect(path).toEqual(
      expect.arrayContaining(["Stop Channel", "Delete Created Channel", "Delete Created Input"]),
    );
    // Each retry asks MediaLive to stop; only the one after RUNNING is taken.
    expect(await t.accepted("medialive", "StopChannel")).toBe(1);

    const session = await t.session(sessionId);
    expect(session.streaming).toMatchObject({ status: "error", isLive: false });
    expect(session.streaming.error).toMatchObject({ code: "ChannelWaitTimeout" });
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
  });
});
