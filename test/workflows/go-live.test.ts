import {
  CreateStreamKeyCommand,
  DeleteStreamKeyCommand,
  IvsClient,
  ListStreamKeysCommand,
} from "@aws-sdk/client-ivs";
import { DeleteInputSecurityGroupCommand } from "@aws-sdk/client-medialive";
import { describe, expect, it } from "vitest";
import { medialive } from "#lib/aws/clients.ts";
import { eventually, useLocalRuntime } from "./harness.ts";

const t = useLocalRuntime({ legacyProgramChannels: true });

/** Rotates the IVS stream key the way IVS does it (delete, create); returns the new value. */
async function rotateStreamKey(channelArn: string): Promise<string> {
  const ivs = new IvsClient({
    endpoint: t.h.rt.endpoints.simulator,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
  });
  const [old] = (await ivs.send(new ListStreamKeysCommand({ channelArn }))).streamKeys ?? [];
  await ivs.send(new DeleteStreamKeyCommand({ arn: String(old?.arn) }));
  const fresh = await ivs.send(new CreateStreamKeyCommand({ channelArn }));
  return String(fresh.streamKey?.value);
}

/**
 * Starts a go-live held on its channel wait (its events lost, its describes slow) and kills it
 * once the channel is RUNNING (billed), leaving the session `starting`: a Lambda or execution
 * that died mid-way.
 */
async function abortGoLiveWithChannelRunning(sessionId: string): Promise<void> {
  await t.fault({ service: "events", action: "drop", detailType: "MediaLive Channel State Change", rate: 1 });
  await t.fault({ service: "medialive", operation: "DescribeChannel", delayMs: 600, times: 6 });
  const first = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
  await eventually(async () => t.liveMediaLive().channels.find((c) => c.state === "RUNNING"));
  await t.abort(first.body.executionArn);
}

describe("go-live on the local runtime", () => {
  it("creates input and channel, starts it, and marks the session live with its playback URL", async () => {
    // Prepare
    const sessionId = await t.createSession();
    // Act
    const { start, execution } = await t.goLive(sessionId);
    // Assess
    expect(start.body.executionName).toBe(`go-live-${sessionId}-1`);
    expect(execution.status).toBe("SUCCEEDED");
    const session = await t.session(sessionId);
    expect(session.streaming).toMatchObject({ status: "live", isLive: true, attempt: 1 });
    expect(Date.parse(session.streaming.startedAt)).toBeGreaterThan(0);
    const output = JSON.parse(execution.output ?? "{}");
    expect(output.playbackUrl).toBe(session.ivs.programPlaybackUrl);
    const { channels, inputs } = t.liveMediaLive();
    expect(channels).toHaveLength(1);
    expect(inputs).toHaveLength(1);
    expect(channels[0]).toMatchObject({ id: session.mediaLive.channelId, state: "RUNNING" });
    expect(inputs[0]).toMatchObject({ id: session.mediaLive.inputIds.host, state: "ATTACHED" });
    expect(session.mediaLive.rtmpEndpoints.host[0].url).toMatch(/^rtmp:\/\/[\d.]+:1935\//);
    // The channel pushes to the session's IVS program channel: its stream is live.
    const streams = t.h.rt.simulator.resources().ivs.streams;
    expect(streams).toContainEqual(
      expect.objectContaining({ channelArn: session.ivs.programChannelArn, state: "LIVE" }),
    );
    expect(await t.statePath(start.body.executionArn)).toEqual(
      expect.arrayContaining([
        "Claim Session",
        "Ensure Input",
        "Ensure Channel",
        "Wait For Channel Ready",
        "Start Channel",
        "Wait For Channel Running",
        "Confirm Program Channel",
        "Mark Session Live",
        "Session Live",
      ]),
    );
  });

  it("never exposes the stream key in execution history, API responses or the execution view", async () => {
    const sessionId = await t.createSession();
    const { start } = await t.goLive(sessionId);
    const keys = t.h.rt.simulator.resources().ivs.streamKeys.map((k) => String(k.value));
    expect(keys.length).toBeGreaterThan(0);
    const texts = [
      JSON.stringify(await t.history(start.body.executionArn, true)),
      (await t.api("GET", `/sessions/${sessionId}`)).raw,
      (await t.api("GET", `/executions/${encodeURIComponent(start.body.executionArn)}`)).raw,
      JSON.stringify(start.body),
    ];
    // The key really is in use (configured on the MediaLive channel), so the check can fail.
    expect(JSON.stringify(t.h.rt.simulator.resources().medialive.channels)).toContain(keys[0]);
    for (const text of texts) for (const key of keys) expect(text).not.toContain(key);
  });

  it("reuses the session's channel and input on the next go-live", async () => {
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    const first = await t.session(sessionId);
    expect((await t.stopStreaming(sessionId)).execution.status).toBe("SUCCEEDED");
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    expect(start.body.executionName).toBe(`go-live-${sessionId}-2`);
    const second = await t.session(sessionId);
    expect(second.mediaLive.channelId).toBe(first.mediaLive.channelId);
    expect(second.mediaLive.inputIds.host).toBe(first.mediaLive.inputIds.host);
    expect(await t.calls("medialive", "CreateChannel")).toBe(1);
    expect(await t.accepted("medialive", "CreateInput")).toBe(1);
    expect(t.liveMediaLive().channels).toHaveLength(1);
  });

  it("points a reused channel at a rotated stream key, so the program reaches IVS again", async () => {
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    await t.stopStreaming(sessionId);
    const { programChannelArn } = (await t.session(sessionId)).ivs;
    const freshKey = await rotateStreamKey(String(programChannelArn));

    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    expect(await t.calls("medialive", "UpdateChannel")).toBe(1);
    // UPDATING sends no event: the wait polls it back to IDLE, no round waits out its fallback.
    const path = await t.statePath(start.body.executionArn);
    expect(path).toContain("Wait For Channel Ready: Pause");
    expect(path).not.toContain("Wait For Channel Ready: Count Round");
    expect(JSON.stringify(t.liveMediaLive().channels[0]?.destinations)).toContain(freshKey);
    // The simulator makes an IVS stream live only when the pushed key is the channel's key.
    expect(t.h.rt.simulator.resources().ivs.streams).toContainEqual(
      expect.objectContaining({ channelArn: programChannelArn, state: "LIVE" }),
    );
  });

  it("re-points a reused channel that is still running on a rotated key: stop, update, start", async () => {
    const sessionId = await t.createSession();
    // A go-live dies with its channel RUNNING (billed) and the session left `starting`.
    await abortGoLiveWithChannelRunning(sessionId);
    await t.sim("DELETE", "/_sim/faults");
    const { programChannelArn } = (await t.session(sessionId)).ivs;
    const freshKey = await rotateStreamKey(String(programChannelArn));

    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    // Explicit in the history: the running channel was stopped to be updated, then started.
    const entered = (await t.history(start.body.executionArn))
      .filter((e) => e.type?.endsWith("StateEntered"))
      .map((e) => e.stateEnteredEventDetails?.name);
    expect(entered).toEqual(
      expect.arrayContaining(["Stop Channel To Repoint", "Repoint Program Destination", "Start Channel"]),
    );
    expect(entered.indexOf("Stop Channel To Repoint")).toBeLessThan(entered.lastIndexOf("Start Channel"));
    expect(entered).toContain("Wait For Channel Ready: Pause");
    expect(entered).not.toContain("Wait For Channel Ready: Count Round");
    expect(await t.calls("medialive", "UpdateChannel")).toBe(1);
    expect(JSON.stringify(t.liveMediaLive().channels[0]?.destinations)).toContain(freshKey);
    expect(t.liveMediaLive().channels[0]?.state).toBe("RUNNING");
    expect(t.h.rt.simulator.resources().ivs.streams).toContainEqual(
      expect.objectContaining({ channelArn: programChannelArn, state: "LIVE" }),
    );
  });

  it("confirms the IVS program channel before anything billable: a missing one creates and starts nothing", async () => {
    const sessionId = await t.createSession();
    await t.fault({ service: "ivs", operation: "GetChannel", error: "ResourceNotFoundException", times: 1 });
    const { execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("ProgramChannelMissing");
    expect(await t.calls("medialive", "CreateChannel")).toBe(0);
    expect(await t.calls("medialive", "StartChannel")).toBe(0);
    expect((await t.session(sessionId)).streaming.status).toBe("error");
  });

  it("answers 200 with the playback URL when already live, and starts nothing", async () => {
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    const again = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "live", playbackUrl: expect.stringContaining("playback") });
    expect(await t.calls("medialive", "StartChannel")).toBe(1);
  });

  it("gives concurrent go-live requests one execution and one channel", async () => {
    const sessionId = await t.createSession();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => t.api("POST", `/sessions/${sessionId}/streaming/start`)),
    );
    const arns = new Set(responses.map((r) => r.body.executionArn));
    expect(responses.every((r) => r.status === 202 || r.status === 200)).toBe(true);
    expect(arns.size).toBe(1);
    const [arn] = [...arns];
    expect((await t.waitFor(String(arn))).status).toBe("SUCCEEDED");
    expect(await t.calls("medialive", "CreateChannel")).toBe(1);
    expect(await t.calls("medialive", "StartChannel")).toBe(1);
    expect(t.liveMediaLive().channels).toHaveLength(1);
  });

  it("retries throttled MediaLive calls in the task, then in the state, and still goes live", async () => {
    const sessionId = await t.createSession();
    // Three attempts inside the task (the SDK's), then the state retries the task: four
    // throttles in a row show once in the history, and the fifth call goes through.
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "TooManyRequestsException",
      times: 4,
    });
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    // Start Channel is the first round of the RUNNING wait: a callback task (TaskFailed).
    const failures = (await t.history(start.body.executionArn)).filter(
      (e) => e.type === "TaskFailed" && e.taskFailedEventDetails?.error === "TooManyRequestsException",
    );
    expect(failures).toHaveLength(1);
    expect(await t.calls("medialive", "StartChannel")).toBe(5);
  });

  it("compensates a validation failure: deletes what it created, records the error, retries nothing", async () => {
    const sessionId = await t.createSession();
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "UnprocessableEntityException",
      times: 1,
    });
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("UnprocessableEntityException");
    expect(await t.calls("medialive", "StartChannel")).toBe(1);
    const path = await t.statePath(start.body.executionArn);
    expect(path).toEqual(
      expect.arrayContaining([
        "Clean Up",
        "Delete Created Channel",
        // The channel's DELETED event before its input is deleted.
        "Wait For Channel Deleted: Check State",
        "Delete Created Input",
        "Record Failure",
      ]),
    );
    expect(path.at(-1)).toBe("Go Live Failed");
    const session = await t.session(sessionId);
    expect(session.streaming).toMatchObject({ status: "error", isLive: false });
    expect(session.streaming.error.code).toBe("UnprocessableEntityException");
    expect(session.mediaLive.channelId).toBeUndefined();
    expect(session.mediaLive.inputIds.host).toBeUndefined();
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
  });

  it("leaves a reused channel in place (stopped) when a later go-live fails, and recovers from error", async () => {
    const sessionId = await t.createSession();
    await t.goLive(sessionId);
    await t.stopStreaming(sessionId);
    const { channelId } = (await t.session(sessionId)).mediaLive;
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "UnprocessableEntityException",
      times: 1,
    });
    expect((await t.goLive(sessionId)).execution.status).toBe("FAILED");
    const afterFailure = await t.session(sessionId);
    expect(afterFailure.streaming.status).toBe("error");
    expect(afterFailure.mediaLive.channelId).toBe(channelId);
    expect(t.liveMediaLive().channels).toEqual([expect.objectContaining({ id: channelId, state: "IDLE" })]);
    // Going live again from `error` works and still uses the same channel.
    expect((await t.goLive(sessionId)).execution.status).toBe("SUCCEEDED");
    expect((await t.session(sessionId)).mediaLive.channelId).toBe(channelId);
  });

  it("creates one shared input security group when first go-lives run at the same time", async () => {
    const sessions = await Promise.all([t.createSession(), t.createSession(), t.createSession()]);
    // Slow look-ups, so every go-live has looked (and found none) before any has created one.
    await t.fault({ service: "medialive", operation: "ListInputSecurityGroups", delayMs: 300, times: 3 });
    const results = await Promise.all(sessions.map((id) => t.goLive(id)));
    expect(results.map((r) => r.execution.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    const groups = t.h.rt.simulator
      .resources()
      .medialive.inputSecurityGroups.filter((g) => !["DELETED", "DELETING"].includes(String(g.state)));
    expect(groups).toHaveLength(1);
    expect(await t.calls("medialive", "CreateInputSecurityGroup")).toBe(1);
  });

  it("makes a new input security group when the recorded one was deleted, and goes live", async () => {
    const first = await t.createSession();
    expect((await t.goLive(first)).execution.status).toBe("SUCCEEDED");
    const [group] = t.h.rt.simulator.resources().medialive.inputSecurityGroups;
    await t.endSession(first);
    // Deleted by hand once no input uses it; castflow's record still names it.
    await medialive().send(new DeleteInputSecurityGroupCommand({ InputSecurityGroupId: String(group?.id) }));

    const second = await t.createSession();
    await t.sim("DELETE", "/_sim/calls");
    expect((await t.goLive(second)).execution.status).toBe("SUCCEEDED");
    // CreateInput refused the recorded group; the task found it gone and made another.
    expect(await t.accepted("medialive", "CreateInput")).toBe(1);
    expect(await t.calls("medialive", "CreateInputSecurityGroup")).toBe(1);
    const { inputSecurityGroupId } = (await t.session(second)).mediaLive;
    expect(inputSecurityGroupId).toBeDefined();
    expect(inputSecurityGroupId).not.toBe(group?.id);
  });

  it("says plainly that MediaLive's quota is reached instead of retrying it as throttling", async () => {
    // Five channels is MediaLive's default quota per region; the sixth go-live cannot have one.
    const sessions = await Promise.all(Array.from({ length: 6 }, () => t.createSession()));
    for (const id of sessions.slice(0, 5)) expect((await t.goLive(id)).execution.status).toBe("SUCCEEDED");
    const sixth = sessions[5] as string;
    const startedAt = Date.now();
    const { execution } = await t.goLive(sixth);
    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("QuotaExceeded");
    // Not retried for minutes (scaled), and nothing of the sixth left behind.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    const session = await t.session(sixth);
    expect(session.streaming.error).toMatchObject({
      code: "QuotaExceeded",
      message: expect.stringContaining("quota"),
    });
    expect(t.liveMediaLive().channels).toHaveLength(5);
    expect(t.liveMediaLive().inputs).toHaveLength(5);
  });

  it("creates one channel when CreateChannel's answer is lost and the task is retried", async () => {
    const sessionId = await t.createSession();
    // Every attempt inside the task creates and loses its answer; the state then re-runs it.
    await t.fault({
      service: "medialive",
      operation: "CreateChannel",
      error: "InternalServerErrorException",
      times: 3,
      after: true,
    });
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    const lost = (await t.history(start.body.executionArn)).filter(
      (e) =>
        e.type === "LambdaFunctionFailed" &&
        e.lambdaFunctionFailedEventDetails?.error === "InternalServerErrorException",
    );
    expect(lost).toHaveLength(1);
    // The SDK's attempts carry the same RequestId (MediaLive answers with the same channel), and
    // the state's retry finds the channel by its session tag before creating anything.
    expect(await t.calls("medialive", "CreateChannel")).toBe(3);
    expect(t.liveMediaLive().channels).toHaveLength(1);
  });

  it("recovers from a crash after CreateChannel by running go-live again, without a second channel", async () => {
    const sessionId = await t.createSession();
    // Hold the first poll of the new channel so the execution is mid-way, then kill it.
    await t.fault({ service: "medialive", operation: "DescribeChannel", delayMs: 3000, times: 1 });
    const first = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    await eventually(async () => (await t.session(sessionId)).mediaLive.channelId);
    await t.abort(first.body.executionArn);
    expect((await t.waitFor(first.body.executionArn)).status).toBe("ABORTED");
    expect((await t.session(sessionId)).streaming.status).toBe("starting");

    // The session is stuck `starting` under a dead execution: go-live again takes it over.
    const { start, execution } = await t.goLive(sessionId);
    expect(start.body.executionName).toBe(`go-live-${sessionId}-2`);
    expect(execution.status).toBe("SUCCEEDED");
    const session = await t.session(sessionId);
    expect(session.streaming).toMatchObject({ status: "live", attempt: 2 });
    expect(await t.calls("medialive", "CreateChannel")).toBe(1);
    expect(t.liveMediaLive().channels).toHaveLength(1);
    expect(t.liveMediaLive().inputs).toHaveLength(1);
  });

  it("takes over a go-live that died after starting the channel, without starting it twice", async () => {
    const sessionId = await t.createSession();
    // Hold the channel polls, so the execution is still waiting on one when the channel is
    // already RUNNING (and billed): that is when it dies.
    await abortGoLiveWithChannelRunning(sessionId);

    const { execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    // The second go-live asks to start it too; MediaLive refuses, the channel runs already.
    expect(await t.accepted("medialive", "StartChannel")).toBe(1);
    expect((await t.session(sessionId)).streaming).toMatchObject({ status: "live", attempt: 2 });
    expect(t.liveMediaLive().channels).toHaveLength(1);
  });

  it("lets the host stop a session left starting by a dead go-live", async () => {
    const sessionId = await t.createSession();
    await abortGoLiveWithChannelRunning(sessionId);
    expect((await t.session(sessionId)).streaming.status).toBe("starting");

    const { execution } = await t.stopStreaming(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    expect((await t.session(sessionId)).streaming.status).toBe("idle");
    expect(t.liveMediaLive().channels).toEqual([expect.objectContaining({ state: "IDLE" })]);
  });

  it("shows a host only the name of an AWS error, never its message", async () => {
    const sessionId = await t.createSession();
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "ForbiddenException",
      message: "User arn:aws:sts::000000000000:assumed-role/castflow-task/x is not authorized",
      times: 1,
    });
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("FAILED");
    const session = await t.api("GET", `/sessions/${sessionId}`);
    const view = await t.api("GET", `/executions/${encodeURIComponent(start.body.executionArn)}`);
    expect(session.body.streaming.error.code).toBe("ForbiddenException");
    for (const raw of [session.raw, view.raw]) expect(raw).not.toContain("assumed-role");
    // Operators still find the detail in the execution history.
    expect(JSON.stringify(await t.history(start.body.executionArn))).toContain("assumed-role");
  });

  it("reports the running state of an execution through GET /executions", async () => {
    const sessionId = await t.createSession();
    // The channel's CREATED event is lost and the fallback describe is slow: the execution
    // stays in its wait long enough to be seen there.
    await t.fault({
      service: "events",
      action: "drop",
      detailType: "MediaLive Channel State Change",
      times: 1,
    });
    await t.fault({ service: "medialive", operation: "DescribeChannel", delayMs: 1500, times: 1 });
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const path = `/executions/${encodeURIComponent(start.body.executionArn)}`;
    const running = await eventually(async () => {
      const r = await t.api("GET", path);
      return r.body.currentState === "Wait For Channel Ready: Await Event" ? r : undefined;
    });
    expect(running.body).toMatchObject({ status: "RUNNING", sessionId });
    // Stop is refused while the session is starting.
    const stop = await t.api("POST", `/sessions/${sessionId}/streaming/stop`);
    expect(stop.status).toBe(409);
    expect(stop.body.error.code).toBe("conflict");
    await t.waitFor(start.body.executionArn);
    const done = await t.api("GET", path);
    expect(done.body).toMatchObject({ status: "SUCCEEDED", output: { sessionId } });
    // Another host cannot see it.
    expect((await t.api("GET", path, { user: "someone-else" })).status).toBe(404);
  });
});
