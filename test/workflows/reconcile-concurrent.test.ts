import { randomUUID } from "node:crypto";
import { DescribeExecutionCommand, type ExecutionListItem, ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetConfig } from "#lib/config.ts";
import { eventually, useLocalRuntime } from "./harness.ts";
import { ADMIN, reconcileRuns } from "./reconcile-runs.ts";

// Issue: "A reconcile running while go-live and destination lifecycles run breaks none of them."
// Real (non-dry) reconcile runs start back to back, each as soon as the one before closed, for
// as long as sessions go live, stop and end and destinations are added, started, stopped and
// deleted (per-destination and shared-channel mode). Repairs are allowed all along (every finding
// a run sees that a run a grace period older saw too is repaired), and none may touch work in
// progress: every lifecycle succeeds, no run repairs (or fails to repair) anything, and once all
// has settled reconcile finds nothing and the account holds only what the records name.

/**
 * A time scale where a channel start takes 1.5 s: five times the other workflow tests', so the
 * lifecycles' polls (every 3-5 s simulated) leave the CPU to the reconcile runs beside them.
 */
const TIME_SCALE = 0.01;
/**
 * Simulated AWS slowed (base seconds, before the time scale), well inside castflow's waiter
 * budgets (state-machines/workflow/waits.ts), so the lifecycles outlast several runs.
 */
const SLOW = {
  channelCreate: 40, // Wait For Channel Ready: 3 s x 40
  channelStart: 150, // Wait For Channel Running: 5 s x 150
  channelStop: 90, // Wait For Channel Stopped: 5 s x 90
  channelDelete: 40, // with inputDetach, inside Wait For Input Detached's 5 s x 84
  inputDetach: 30,
  inputDelete: 20,
  flowStart: 60, // Wait For Flow Active: 3 s x 60
  flowStop: 30,
} as const;

const t = useLocalRuntime({ legacyProgramChannels: true, simulatorDurations: SLOW, timeScale: TIME_SCALE });

/**
 * The grace period, short relative to the lifecycles: 15 s instead of the deployed 300 s (which
 * the runtime sets, scaled). A go-live (a channel created and started: ~200 s) spans a dozen
 * grace periods, and almost every run comes a grace period (150 ms here) after the one before:
 * whatever a run sees that the run before saw too, it repairs.
 */
const GRACE_SECONDS = 15;
const GRACE_MS = GRACE_SECONDS * TIME_SCALE * 1000;
let runtimeGrace: string | undefined;
beforeAll(() => {
  // The harness's beforeAll (registered first) has started the runtime and set the environment;
  // config() reads it again after resetConfig().
  runtimeGrace = process.env.RECONCILE_GRACE_SECONDS;
  process.env.RECONCILE_GRACE_SECONDS = String(GRACE_SECONDS * TIME_SCALE);
  resetConfig();
});
afterAll(() => {
  process.env.RECONCILE_GRACE_SECONDS = runtimeGrace;
  resetConfig();
});

const { startRun, report } = reconcileRuns(t);
/** MediaLive's default channel quota, which the simulator enforces (DELETING channels count). */
const CHANNEL_QUOTA = 5;
const SETTLED_CHANNEL = ["IDLE", "RUNNING", "DELETED"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newHost = () => `host-${randomUUID().slice(0, 8)}`;
const ytKey = () => {
  const hex = randomUUID().replaceAll("-", "");
  return [0, 4, 8, 12, 16].map((i) => hex.slice(i, i + 4)).join("-");
};
const ms = (d: Date | undefined) => d?.getTime() ?? Number.NaN;
const nameOf = (arn: string) => arn.slice(arn.lastIndexOf(":") + 1);

function gate() {
  let open = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open };
}

// ---------- reconcile ----------

/** Real runs one after another (each starts once the one before closed) until halted. */
function reconcileBackToBack() {
  const runIds: string[] = [];
  let halted = false;
  let closed = 0;
  const loop = (async () => {
    while (!halted) {
      const run = await startRun();
      runIds.push(run.runId);
      await t.waitFor(run.executionArn);
      closed++;
    }
  })();
  return {
    runIds,
    closed: () => closed,
    /** Stops after the run in progress; rejects with what stopped the loop early. */
    halt: async () => {
      halted = true;
      await loop;
    },
  };
}

// ---------- lifecycles through the API ----------

async function lifecycle(method: string, path: string, user: string, body?: unknown) {
  const res = await t.api(method, path, { user, ...(body !== undefined ? { body } : {}) });
  if (res.status !== 202) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return { body: res.body, execution: await t.waitFor(res.body.executionArn) };
}

const sessionOf = async (id: string, user: string) => (await t.api("GET", `/sessions/${id}`, { user })).body;
const destinationOf = async (id: string) => (await t.api("GET", `/destinations/${id}`, ADMIN)).body;
const sourceOf = async (id: string) => (await t.api("GET", `/admin/sources/${id}`, ADMIN)).body;

/** Every execution of every state machine of the runtime (one page each: far fewer than 1,000). */
async function allExecutions(): Promise<(ExecutionListItem & { lifecycle: string })[]> {
  const perMachine = await Promise.all(
    Object.entries(t.h.rt.stateMachineArns).map(async ([lifecycle, stateMachineArn]) => {
      const res = await t.h.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
      return (res.executions ?? []).map((e) => ({ ...e, lifecycle }));
    }),
  );
  return perMachine.flat();
}

const alive = (x: Record<string, unknown>, key = "state") => x[key] !== "DELETED";
const sorted = (xs: Iterable<unknown>) => [...new Set([...xs].map(String))].sort();

describe("reconcile beside the lifecycles", () => {
  it("back-to-back real runs while sessions go live, stop and end and destinations are added, started, stopped and deleted repair nothing and break nothing", async () => {
    // Three hosts (one on a legacy per-session program channel, two on persistent channels), an
    // SRT source (per-destination mode: a channel per destination) and an RTMP source
    // (shared-channel mode: one channel for all its destinations), its encoder pushing.
    const legacyHost = newHost();
    const [hostB, hostC] = [newHost(), newHost()];
    const owner = newHost();
    const pcB = await t.persistentChannel(hostB);
    const pcC = await t.persistentChannel(hostC);
    const srt = await t.api("POST", "/admin/sources", {
      ...ADMIN,
      body: { name: "studio-srt", protocol: "srt-listener" },
    });
    expect(srt.status).toBe(201);
    const rtmp = await t.api("POST", "/admin/sources", {
      ...ADMIN,
      body: { name: "studio-obs", protocol: "rtmp-push", allowedCidr: "198.51.100.0/24" },
    });
    expect(rtmp.status).toBe(201);
    const srtId = srt.body.sourceId as string;
    const rtmpId = rtmp.body.sourceId as string;
    const obs = { inputId: rtmp.body.shared.input.inputId, pushing: true };
    expect((await t.sim("POST", "/_sim/sources", obs)).status).toBe(200);

    // The sessions too are made before the runs start, like the sources: POST /sessions claims
    // the host's persistent channel and makes the session's IVS channel before it writes the
    // record, and no execution holds that moment, only the grace period (shortened here) does.
    const s1 = await t.createSession(legacyHost);
    const s2 = await t.createSession(hostB);
    const s3 = await t.createSession(hostC);

    const runner = reconcileBackToBack();
    // The first runs load reconcile's tasks (cold starts): the lifecycles start after them.
    await eventually(async () => runner.closed() >= 2, 20_000);
    const t0 = Date.now();
    const timeline: string[] = [];
    const mark = (m: string) => timeline.push(`${String(Date.now() - t0).padStart(6)} ms  ${m}`);
    // MediaLive's quota (5 channels) keeps the shared channel back until the ended session's or
    // the deleted destination's channel is gone; the stop-streaming waits for the shared track,
    // so it overlaps it.
    const sessionEnded = gate();
    const destinationDeleted = gate();
    const sharedStarted = gate();

    // Sessions: three go live, staggered (new channel each); one stops streaming, one ends.
    const sessionsTrack = async () => {
      const goLive = async (id: string, host: string, after: number) => {
        await sleep(after);
        mark(`go-live ${id}`);
        await lifecycle("POST", `/sessions/${id}/streaming/start`, host);
        mark(`live ${id}`);
      };
      await Promise.all([goLive(s1, legacyHost, 0), goLive(s2, hostB, 150), goLive(s3, hostC, 300)]);
      const stop = async () => {
        await sharedStarted.opened;
        mark(`stop streaming ${s2}`);
        await lifecycle("POST", `/sessions/${s2}/streaming/stop`, hostB);
        mark(`stopped streaming ${s2}`);
      };
      const end = async () => {
        mark(`end ${s3}`);
        await lifecycle("DELETE", `/sessions/${s3}`, hostC);
        mark(`ended ${s3}`);
        sessionEnded.open();
      };
      await Promise.all([stop(), end()]);
      return { s1, s2, s3 };
    };

    // Per-destination mode: two destinations on the SRT source, added and started staggered;
    // one stops and is deleted while the other runs on.
    const perDestinationTrack = async () => {
      const add = async (name: string, after: number) => {
        await sleep(after);
        mark(`add ${name}`);
        const body = { name, platform: "youtube", sourceId: srtId, streamKey: ytKey() };
        const added = await lifecycle("POST", "/destinations", owner, body);
        mark(`added ${name} ${added.body.destinationId}`);
        return added.body.destinationId as string;
      };
      const act = async (id: string, action: "start" | "stop", after = 0) => {
        await sleep(after);
        mark(`${action} ${id}`);
        await lifecycle("POST", `/destinations/${id}/${action}`, owner);
        mark(`${action} done ${id}`);
      };
      const [d1, d2] = await Promise.all([add("D1", 100), add("D2", 200)]);
      await Promise.all([act(d1, "start"), act(d2, "start", 150)]);
      await act(d2, "stop");
      mark(`delete ${d2}`);
      await lifecycle("DELETE", `/destinations/${d2}`, owner);
      mark(`deleted ${d2}`);
      destinationDeleted.open();
      return { d1, d2 };
    };

    // Shared-channel mode: two destinations on the RTMP source's one channel; both start (the
    // second restarts the channel for the first), then one stops (restarting it again).
    const sharedTrack = async () => {
      const add = async (name: string) => {
        const res = await t.api("POST", "/destinations", {
          user: owner,
          body: { name, platform: "youtube", sourceId: rtmpId, streamKey: ytKey() },
        });
        if (res.status !== 201) throw new Error(`add ${name}: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.destinationId as string;
      };
      const x1 = await add("X1");
      const x2 = await add("X2");
      await Promise.race([sessionEnded.opened, destinationDeleted.opened]);
      await eventually(
        async () =>
          t.h.rt.simulator.resources().medialive.channels.filter((c) => alive(c)).length < CHANNEL_QUOTA,
        30_000,
      );
      const act = async (id: string, action: "start" | "stop") => {
        mark(`shared ${action} ${id}`);
        const done = lifecycle("POST", `/destinations/${id}/${action}`, owner);
        sharedStarted.open();
        await done;
        // The source's shared-channel-apply finishes the change: settled once none holds it.
        await eventually(async () => {
          const d = await destinationOf(id);
          return (
            !["starting", "stopping", "restarting"].includes(d.status) &&
            !(await sourceOf(rtmpId)).shared?.apply
          );
        }, 30_000);
        mark(`shared ${action} done ${id}`);
      };
      await act(x1, "start");
      await act(x2, "start");
      await act(x2, "stop");
      return { x1, x2 };
    };

    let tracks:
      | [
          Awaited<ReturnType<typeof sessionsTrack>>,
          Awaited<ReturnType<typeof perDestinationTrack>>,
          Awaited<ReturnType<typeof sharedTrack>>,
        ]
      | undefined;
    let failure: unknown;
    try {
      tracks = await Promise.all([sessionsTrack(), perDestinationTrack(), sharedTrack()]);
      mark("lifecycles done");
      // What the lifecycles started finishes (deletes, detaches, stops, flow transitions).
      await eventually(async () => {
        const r = t.h.rt.simulator.resources();
        return (
          r.medialive.channels.every((c) => SETTLED_CHANNEL.includes(String(c.state))) &&
          r.medialive.inputs.every((i) => ["ATTACHED", "DETACHED", "DELETED"].includes(String(i.state))) &&
          r.mediaconnect.flows.every((f) => ["ACTIVE", "STANDBY"].includes(String(f.status)))
        );
      }, 30_000);
      mark("account settled");
    } catch (err) {
      failure = err;
    }
    // A loop that stopped early (a run that could not be started) fails the test too.
    await runner.halt().catch((err: unknown) => {
      failure ??= err;
    });
    mark(`runner halted after ${runner.runIds.length} runs`);

    // Every run's report, first: the evidence for whatever fails below. A finding repaired (or
    // whose repair failed) is offending; the others (proposed, skipped at the confirmation, or
    // with no repair) are shown.
    const executions = await allExecutions();
    const runs = executions.filter((e) => e.lifecycle === "reconcile");
    const lifecycles = executions.filter((e) => e.lifecycle !== "reconcile");
    const overlaps = (a: ExecutionListItem, b: ExecutionListItem) =>
      ms(a.startDate) < ms(b.stopDate ?? new Date()) && ms(b.startDate) < ms(a.stopDate ?? new Date());
    const offending: string[] = [];
    const leftAlone: string[] = [];
    for (const runId of runner.runIds) {
      const run = await report(runId);
      expect(run, runId).toMatchObject({ status: "succeeded", dryRun: false });
      expect(run.note, runId).toBeUndefined();
      const execution = runs.find((r) => r.executionArn === run.executionArn);
      const beside = lifecycles.filter((l) => execution && overlaps(l, execution)).map((l) => l.name);
      for (const f of run.findings) {
        const line = `run ${run.runId} (execution ${nameOf(run.executionArn)}, beside ${beside.join(", ") || "no lifecycle"}): ${JSON.stringify(f)}`;
        if (f.action === "repaired" || f.action === "failed") offending.push(line);
        else leftAlone.push(line);
      }
    }
    const evidence = `repairs:\n${offending.join("\n") || "none"}\ntimeline:\n${timeline.join("\n")}`;
    if (failure)
      throw new Error(`the lifecycles or the runs did not finish: ${String(failure)}\n${evidence}`);
    const [sessions, perDestination, shared] = tracks as NonNullable<typeof tracks>;

    // Every execution, the ones lifecycles started themselves (shared-channel-apply) and every
    // reconcile run included, SUCCEEDED.
    const notSucceeded = await Promise.all(
      executions
        .filter((e) => e.status !== "SUCCEEDED")
        .map(async (e) => {
          const d = await t.h.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
          return `${e.name}: ${d.status} ${d.error ?? ""} ${d.cause ?? ""}`;
        }),
    );
    expect(notSucceeded, evidence).toEqual([]);
    expect(sorted(lifecycles.map((e) => e.lifecycle))).toEqual([
      "destination-add",
      "destination-delete",
      "destination-start",
      "destination-stop",
      "end-session",
      "go-live",
      "shared-channel-apply",
      "stop-streaming",
    ]);

    // No run repaired, or tried and failed to repair, anything; each was a real run (checked
    // above: not turned into a report-only one by another run in progress).
    expect(offending, evidence).toEqual([]);
    console.log(
      `${runner.runIds.length} runs, none repaired anything; findings left alone: ${leftAlone.length}\n${leftAlone.join("\n")}`,
    );

    // Runs really repeated during the lifecycles: each lifecycle execution overlaps the
    // inventory of at least one run (most overlap several; printed below with the runs each
    // contains whole, which depends on the machine's load).
    const inventories = await Promise.all(
      runs.map(async (r) => {
        const events = await t.history(String(r.executionArn), false);
        const entered = events.find((e) => e.stateEnteredEventDetails?.name === "Take Inventory");
        const exited = events.find((e) => e.stateExitedEventDetails?.name === "Take Inventory");
        return { from: ms(entered?.timestamp), to: ms(exited?.timestamp) };
      }),
    );
    const during = (l: ExecutionListItem) => {
      const [from, to] = [ms(l.startDate), ms(l.stopDate)];
      return {
        overlapping: inventories.filter((i) => i.from < to && i.to > from).length,
        whole: runs.filter((r) => ms(r.startDate) >= from && ms(r.stopDate) <= to).length,
      };
    };
    const overlap = lifecycles.map((l) => ({ name: l.name, ...during(l) }));
    const table = overlap.map((o) => `${o.name}: ${o.overlapping} inventories, ${o.whole} whole runs`);
    console.log(`${timeline.join("\n")}\n${table.join("\n")}`);
    expect(
      overlap.filter((o) => o.overlapping < 1),
      table.join("\n"),
    ).toEqual([]);

    // Records end where the lifecycles left them.
    expect((await sessionOf(sessions.s1, legacyHost)).streaming.status).toBe("live");
    expect((await sessionOf(sessions.s2, hostB)).streaming.status).toBe("idle");
    expect((await sessionOf(sessions.s3, hostC)).status).toBe("ended");
    expect((await destinationOf(perDestination.d1)).status).toBe("running");
    expect((await destinationOf(perDestination.d2)).status).toBe("deleted");
    expect((await destinationOf(shared.x1)).status).toBe("running");
    expect((await destinationOf(shared.x2)).status).toBe("idle");
    expect(await t.channel(pcB.channelId)).toMatchObject({ state: "LIVE", currentSessionId: sessions.s2 });
    expect(await t.channel(pcC.channelId)).toMatchObject({ state: "IDLE" });

    // Settled and a grace period later, two more real runs find nothing.
    await sleep(GRACE_MS + 50);
    for (const _ of [1, 2]) {
      const { runId, executionArn } = await startRun();
      expect((await t.waitFor(executionArn)).status).toBe("SUCCEEDED");
      runner.runIds.push(runId);
      const run = await report(runId);
      expect(run.findings, JSON.stringify(run.findings)).toEqual([]);
      expect(Object.values(run.counts).reduce((a, n) => a + n, 0)).toBe(0);
    }

    // The list shows the runs, newest first (50 at most), each succeeded with nothing repaired.
    const list = await t.api("GET", "/admin/reconcile/runs", ADMIN);
    expect(list.status).toBe(200);
    const listed = list.body.runs as { runId: string; status: string; found: number; repaired: number }[];
    expect(listed.map((r) => r.runId)).toEqual(runner.runIds.slice(-50).reverse());
    for (const r of listed) expect(r, r.runId).toMatchObject({ status: "succeeded", repaired: 0 });
    expect(listed.slice(0, 2).map((r) => r.found)).toEqual([0, 0]);

    // Nothing left in the account beyond what the final records name.
    const live = [await sessionOf(sessions.s1, legacyHost), await sessionOf(sessions.s2, hostB)];
    const d1 = await destinationOf(perDestination.d1);
    const srtSource = await sourceOf(srtId);
    const rtmpSource = await sourceOf(rtmpId);
    const account = t.h.rt.simulator.resources();
    expect(sorted(account.medialive.channels.filter((c) => alive(c)).map((c) => c.id))).toEqual(
      sorted([
        ...live.map((s) => s.mediaLive.channelId),
        d1.mediaLive.channelId,
        rtmpSource.shared.channelId,
      ]),
    );
    expect(sorted(account.medialive.inputs.filter((i) => alive(i)).map((i) => i.id))).toEqual(
      sorted([
        ...live.map((s) => s.mediaLive.inputIds.host),
        d1.mediaLive.inputId,
        rtmpSource.shared.input.inputId,
      ]),
    );
    const groups = account.medialive.inputSecurityGroups.filter((g) => alive(g)).map((g) => g.id);
    expect(sorted(groups)).toEqual(
      sorted([
        ...live.map((s) => s.mediaLive.inputSecurityGroupId),
        rtmpSource.shared.input.inputSecurityGroupId,
      ]),
    );
    const ivsNamed = [
      ...live.flatMap((s) => [s.ivs.programChannelArn, s.ivs.relayChannelArn, s.ivs.persistentChannelArn]),
      pcB.channelArn,
      pcC.channelArn,
    ].filter((arn) => arn !== undefined);
    expect(sorted(account.ivs.channels.map((c) => c.arn))).toEqual(sorted(ivsNamed));
    const flows = account.mediaconnect.flows as { flowArn: string; outputs: { outputArn: string }[] }[];
    expect(flows.map((f) => f.flowArn)).toEqual([srtSource.flow.flowArn]);
    expect(flows[0]?.outputs.map((o) => o.outputArn)).toEqual([d1.flowOutputArn]);
    const parameters = account.ssm.parameters.map((p) => String(p.Name));
    expect(parameters.filter((p) => p.includes(perDestination.d2))).toEqual([]);
    for (const id of [perDestination.d1, shared.x1, shared.x2])
      expect(
        parameters.some((p) => p.includes(id)),
        id,
      ).toBe(true);
  });
});
