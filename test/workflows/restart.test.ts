import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type LocalRuntime, startLocalRuntime } from "#local/runtime.ts";
import { eventually, TEST_TIME_SCALE } from "./harness.ts";

/**
 * A restart of the local runtime while go-live runs: the execution is aborted (local executions
 * cannot be resumed), and the runtime settles what it aborted instead of leaving the session
 * `starting` until the host comes back.
 */
describe("restarting the local runtime", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "castflow-restart-"));
  const options = {
    stateDir,
    dynamodbEndpoint: inject("dynamodbEndpoint"),
    tableName: `castflow-test-${randomUUID()}`,
    timeScale: TEST_TIME_SCALE,
    legacyProgramChannels: true,
  };
  let rt: LocalRuntime | undefined;
  afterAll(async () => {
    await rt?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, token: string) => {
    const res = await fetch(`${rt?.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("settles a go-live it aborted: the session ends idle with its channel stopped, and says why", async () => {
    // Prepare: a go-live held on its channel wait (the channel's state events lost, its
    // describes slow), with the channel already running.
    rt = await startLocalRuntime(options);
    const token = await rt.token("host-restart");
    const created = await fetch(`${rt.endpoints.api}/sessions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ showId: "restart" }),
    });
    const { sessionId } = (await created.json()) as { sessionId: string };
    for (const fault of [
      { service: "events", action: "drop", detailType: "MediaLive Channel State Change", rate: 1 },
      { service: "medialive", operation: "DescribeChannel", delayMs: 600, times: 6 },
    ]) {
      const res = await fetch(`${rt.endpoints.simulator}/_sim/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(fault),
      });
      expect(res.status).toBeLessThan(300);
    }
    const started = await api("POST", `/sessions/${sessionId}/streaming/start`, token);
    const goLiveArn = started.body.executionArn as string;
    const sim = rt.simulator;
    await eventually(async () =>
      sim.resources().medialive.channels.find((c) => (c as { state?: string }).state === "RUNNING"),
    );

    // Act: the runtime stops mid-way and starts again on the same state (and ports: the SDK
    // clients of this one process keep their endpoints, as a restarted `npm start` would).
    const port = (url: string) => Number(new URL(url).port);
    const ports = {
      api: port(rt.endpoints.api),
      sfn: port(rt.endpoints.sfn),
      simulator: port(rt.endpoints.simulator),
    };
    await rt.stop();
    rt = await startLocalRuntime({ ...options, ports });
    expect(rt.settled).toEqual([
      { aborted: goLiveArn, settledBy: expect.stringContaining(":stop-streaming-") },
    ]);

    // Assess: the aborted go-live says the local runtime stopped, not that an AWS call failed...
    const aborted = await api("GET", `/executions/${encodeURIComponent(goLiveArn)}`, token);
    expect(aborted.body.status).toBe("ABORTED");
    // ...and the session is settled: stopped, channel IDLE, nothing left running or `starting`.
    const settled = await eventually(async () => {
      const s = await api("GET", `/sessions/${sessionId}`, token);
      const streaming = s.body.streaming as { status: string; stopExecutionArn?: string };
      return streaming.status === "idle" ? streaming : undefined;
    }, 20_000);
    expect(settled.stopExecutionArn).toMatch(/:stop-streaming-/);
    const restarted = rt.simulator;
    expect(restarted.resources().medialive.channels).toEqual([expect.objectContaining({ state: "IDLE" })]);
  });
});
