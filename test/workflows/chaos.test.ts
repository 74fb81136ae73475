import { CreateChannelCommand as CreateIvsChannelCommand } from "@aws-sdk/client-ivs";
import {
  CreateInputSecurityGroupCommand,
  DescribeChannelCommand,
  ListChannelsCommand,
} from "@aws-sdk/client-medialive";
import { describe, expect, it } from "vitest";
import { ivs, medialive } from "#lib/aws/clients.ts";
import { useLocalRuntime } from "./harness.ts";

/**
 * A small `npm run chaos` inside `npm test`: a few lifecycles (go-live, stop, go-live, end) run
 * while every MediaLive and IVS call fails at random with a transient error (some after the call
 * took effect) and task Lambdas crash after their handler ran. Every lifecycle must succeed, and
 * nothing may be left behind: this is what the SDK clients' retries, the state machines' retries
 * and the tasks' idempotency together promise.
 */
const CRASH_RATE = 0.15;
const FAULT_RATE = 0.15;
const t = useLocalRuntime({ taskCrashRate: CRASH_RATE });

const FAULTS = {
  medialive: [
    { error: "TooManyRequestsException" },
    { error: "InternalServerErrorException" },
    { error: "BadGatewayException" },
    { error: "GatewayTimeoutException", after: true },
  ],
  ivs: [
    { error: "ThrottlingException" },
    { error: "InternalServerException" },
    { error: "InternalServerException", after: true },
    { error: "ServiceUnavailable", status: 503 },
  ],
};

const HOSTS = ["chaos-host-1", "chaos-host-2", "chaos-host-3"];
const LIFECYCLES_PER_HOST = 2;

describe("chaos: transient faults on every media call and task crashes", () => {
  it("every lifecycle succeeds and nothing is left behind", { timeout: 60_000 }, async () => {
    const channels = new Map<string, string>();
    for (const host of HOSTS) channels.set(host, (await t.persistentChannel(host)).channelId);

    // Several faults per service, each drawn when the earlier ones were not: FAULT_RATE in all.
    for (const [service, errors] of Object.entries(FAULTS)) {
      const rate = 1 - (1 - FAULT_RATE) ** (1 / errors.length);
      for (const e of errors) await t.fault({ service, operation: "*", rate, ...e });
    }

    const failures: string[] = [];
    const executions: string[] = [];
    const sessions: { sessionId: string; host: string }[] = [];
    const step = async (host: string, sessionId: string, what: string, method: string, suffix: string) => {
      const res = await t.api(method, `/sessions/${sessionId}${suffix}`, { user: host });
      if (res.status !== 202) return failures.push(`${what}: API ${res.status} ${res.raw}`) && false;
      executions.push(res.body.executionArn);
      const done = await t.waitFor(res.body.executionArn);
      if (done.status !== "SUCCEEDED") return failures.push(`${what}: ${done.error} ${done.cause}`) && false;
      return true;
    };
    await Promise.all(
      HOSTS.map(async (host) => {
        for (let i = 0; i < LIFECYCLES_PER_HOST; i++) {
          // 503 is the API's "retry shortly" (IVS failed while creating the relay channel).
          let created = await t.api("POST", "/sessions", { user: host, body: { showId: "chaos" } });
          for (let attempt = 0; created.status === 503 && attempt < 10; attempt++)
            created = await t.api("POST", "/sessions", { user: host, body: { showId: "chaos" } });
          if (created.status !== 201) {
            failures.push(`create session: ${created.status} ${created.raw}`);
            return;
          }
          const { sessionId } = created.body;
          sessions.push({ sessionId, host });
          const ok =
            (await step(host, sessionId, "go-live", "POST", "/streaming/start")) &&
            (await t.session(sessionId, host)).streaming.status === "live" &&
            (await step(host, sessionId, "stop", "POST", "/streaming/stop")) &&
            (await t.session(sessionId, host)).streaming.status === "idle" &&
            (await step(host, sessionId, "go-live again", "POST", "/streaming/start")) &&
            (await step(host, sessionId, "end", "DELETE", ""));
          if (!ok) return; // the host's channel may still be claimed: stop here, the failure is recorded
        }
      }),
    );
    const injected = (await t.sim("GET", "/_sim/faults")).body.faults as { hits: number }[];
    await t.sim("DELETE", "/_sim/faults");

    expect(failures).toEqual([]);
    expect(sessions).toHaveLength(HOSTS.length * LIFECYCLES_PER_HOST);

    // The chaos happened: calls failed, and tasks were run again after crashing.
    // (FAULT_RATE of the media calls, drawn at random: a third of it is far out in the tail.)
    let mediaCalls = 0;
    for (const service of Object.keys(FAULTS))
      mediaCalls += (await t.sim("GET", `/_sim/calls?service=${service}`)).body.count as number;
    expect(injected.reduce((n, f) => n + f.hits, 0)).toBeGreaterThan((FAULT_RATE / 3) * mediaCalls);
    let crashes = 0;
    for (const arn of executions) {
      for (const e of await t.history(arn, false)) {
        const error = e.lambdaFunctionFailedEventDetails?.error ?? e.taskFailedEventDetails?.error;
        if (error === "Sandbox.Timedout" || error === "Lambda.ServiceException") crashes++;
      }
    }
    expect(crashes).toBeGreaterThan(0);

    // Nothing left in the simulated account but the hosts' persistent channels and the shared
    // input security group.
    expect(t.liveMediaLive()).toEqual({ channels: [], inputs: [] });
    const ivs = t.h.rt.simulator.resources().ivs.channels;
    expect(ivs.filter((c) => (c.tags as Record<string, string>)["castflow:role"] !== "persistent")).toEqual(
      [],
    );
    expect(ivs).toHaveLength(HOSTS.length);
    const groups = t.h.rt.simulator.resources().medialive.inputSecurityGroups;
    expect(groups.filter((g) => !["DELETING", "DELETED"].includes(String(g.state)))).toHaveLength(1);

    // Every session ended cleanly; every channel is free and counted each broadcast exactly once.
    for (const { sessionId, host } of sessions) {
      const s = await t.session(sessionId, host);
      expect(s, sessionId).toMatchObject({ status: "ended", streaming: { status: "idle", isLive: false } });
      expect(Object.values(s.end.cleanupResults).every((r) => (r as { success: boolean }).success)).toBe(
        true,
      );
      expect(s.mediaLive.channelId, sessionId).toBeUndefined();
    }
    for (const [host, channelId] of channels) {
      expect(await t.channel(channelId), host).toMatchObject({
        state: "IDLE",
        totalBroadcasts: LIFECYCLES_PER_HOST,
      });
    }
  });

  it("the media clients retry a transient error up to 3 times, and never repeat a create without a token", async () => {
    // The runtime pointed the process's SDK clients at the simulator (AWS_ENDPOINT_URL_*).
    await t.fault({
      service: "medialive",
      operation: "ListChannels",
      error: "TooManyRequestsException",
      times: 2,
    });
    await medialive().send(new ListChannelsCommand({}));
    expect(await t.calls("medialive", "ListChannels")).toBe(3);

    await t.fault({
      service: "medialive",
      operation: "DescribeChannel",
      error: "BadGatewayException",
      times: 3,
    });
    await expect(medialive().send(new DescribeChannelCommand({ ChannelId: "1" }))).rejects.toMatchObject({
      name: "BadGatewayException",
    });
    expect(await t.calls("medialive", "DescribeChannel")).toBe(3);

    // Lost answers of creates that have no idempotency token: one attempt, one resource.
    await t.fault({
      service: "ivs",
      operation: "CreateChannel",
      error: "InternalServerException",
      after: true,
    });
    await expect(ivs().send(new CreateIvsChannelCommand({ name: "once" }))).rejects.toMatchObject({
      name: "InternalServerException",
    });
    expect(await t.calls("ivs", "CreateChannel")).toBe(1);
    expect(t.h.rt.simulator.resources().ivs.channels).toHaveLength(1);
    await t.fault({
      service: "medialive",
      operation: "CreateInputSecurityGroup",
      error: "GatewayTimeoutException",
      after: true,
    });
    await expect(medialive().send(new CreateInputSecurityGroupCommand({}))).rejects.toMatchObject({
      name: "GatewayTimeoutException",
    });
    expect(await t.calls("medialive", "CreateInputSecurityGroup")).toBe(1);
    expect(t.h.rt.simulator.resources().medialive.inputSecurityGroups).toHaveLength(1);
  });
});
